import { describe, expect, it } from "@jest/globals";
import { descriptor as sparc } from "@smpcall/arch-sparc";
import { CpuMask, createSmpSystem, type CpuCode } from "@smpcall/core";
import { program, testSystem, irqsOffFor } from "./helpers";

function twoCpusCallEachOther(timeoutMs: number) {
  const sys = testSystem(2, { csdLockTimeoutMs: timeoutMs });
  for (const [a, b] of [
    [0, 1],
    [1, 0],
  ]) {
    program(sys, a, function* () {
      sys.machine.localIrqDisable();
      yield 10;
      yield* sys.kernel.smpCallFunctionSingle(b, function ack_fn() {}, null, true);
      sys.machine.localIrqEnable();
    });
  }
  return { sys, outcome: sys.run() };
}

describe("deadlock detection and the CSD lock-wait watchdog", () => {
  it("25: two CPUs calling each other with wait and interrupts off deadlock; the report has the cycle and irq state", () => {
    const { outcome } = twoCpusCallEachOther(0);
    expect(outcome.status).toBe("deadlock");
    const d = outcome.deadlock!;
    expect(d.cycle).toEqual([0, 1]);
    expect(d.cpus.map((c) => [c.cpu, c.holder, c.irqsDisabled])).toEqual([
      [0, 1, true],
      [1, 0, true],
    ]);
    expect(d.cpus[0].waitsFor).toMatch(/csd#\d+ \(ack_fn\) queued on CPU 1 by CPU 0/);
    expect(d.cpus[0].pending).toBe("Function call interrupts");
    expect(d.message).toMatch(/wait-for cycle: CPU 0 -> CPU 1 -> CPU 0/);
    expect(outcome.problems.map((p) => p.kind)).toEqual(["deadlock"]);
    expect(d.stalledAt).toBeLessThan(10_000);
  });

  it("26: the watchdog fires once the wait exceeds the timeout, naming the target and the callback", () => {
    const { sys, outcome } = twoCpusCallEachOther(5000);
    expect(outcome.status).toBe("deadlock");
    const stuck = sys.kernel.stuckCsds;
    expect(stuck.map((s) => [s.waitingCpu, s.targetCpu, s.callback])).toEqual([
      [0, 1, "ack_fn"],
      [1, 0, "ack_fn"],
    ]);
    for (const s of stuck) {
      expect(s.waitedNs).toBeGreaterThanOrEqual(5000e6);
      expect(s.targetIrqsDisabled).toBe(true);
      expect(s.unstuck).toBe(false);
    }
    expect(outcome.problems.filter((p) => p.kind === "stuck-csd")).toHaveLength(2);
    expect(outcome.problems.filter((p) => p.kind === "stuck-csd")[0].message).toMatch(
      /Detected non-responsive CSD lock .* on CPU#0, waiting \d+ ns for CPU#1 ack_fn/,
    );
    expect(sys.kernel.stats.watchdogResends).toBeGreaterThanOrEqual(2);
  });

  it("26: it does not fire for waits shorter than the timeout, and reports 'unstuck' for one that ends late", () => {
    const sys = testSystem(2, { csdLockTimeoutMs: 1 });
    program(sys, 1, function* () {
      sys.machine.localIrqDisable();
      yield 1_500_000;
      sys.machine.localIrqEnable();
      yield 10;
    });
    program(sys, 0, function* () {
      yield* sys.kernel.smpCallFunctionSingle(1, function slow_ack() {}, null, true);
    });
    const out = sys.run();
    expect(out.status).toBe("completed");
    expect(sys.kernel.stuckCsds).toHaveLength(1);
    expect(sys.kernel.stuckCsds[0]).toMatchObject({
      waitingCpu: 0,
      targetCpu: 1,
      callback: "slow_ack",
      unstuck: true,
    });

    const quick = testSystem(2, { csdLockTimeoutMs: 1 });
    program(quick, 0, function* () {
      yield* quick.kernel.smpCallFunctionSingle(1, () => undefined, null, true);
    });
    expect(quick.run().status).toBe("completed");
    expect(quick.kernel.stuckCsds).toHaveLength(0);
  });

  it("a lost IPI shows up as a lost call at the end of the run", () => {
    const sys = testSystem(2);
    program(sys, 0, function* () {
      yield* sys.kernel.smpCallFunctionSingle(1, function never_run() {}, null, false);
    });
    // Drop the interrupt before CPU 1 takes it (as a broken backend would).
    const m = sys.machine;
    const origRaise = m.raise.bind(m);
    m.raise = () => 0;
    const out = sys.run();
    m.raise = origRaise;
    expect(out.problems.map((p) => p.kind)).toEqual(["lost-call"]);
    expect(out.problems[0].message).toMatch(
      /^CPU 1's call queue still holds 1 csd\(s\) at the end of the run \(oldest: csd#\d+ never_run from CPU 0\): its IPI was lost or never taken$/,
    );
  });

  it("a step limit is reported as a problem (livelock guard)", () => {
    const sys = testSystem(2);
    program(sys, 0, function* () {
      for (;;) yield 1;
    });
    const out = sys.run({ maxEvents: 10_000 });
    expect(out.status).toBe("step-limit");
    expect(out.problems[0].kind).toBe("step-limit");
  });
});

describe("the watchdog as CONFIG_CSD_LOCK_WAIT_DEBUG runs it (kernel-smp.md 6)", () => {
  it("26: the clock is per csd wait: two targets busy 4 s each in turn under a 5 s timeout are not reported", () => {
    const sys = testSystem(3, { csdLockTimeoutMs: 5000 });
    irqsOffFor(sys, 1, 4e9);
    irqsOffFor(sys, 2, 8e9);
    let returnedAt = 0;
    program(sys, 0, function* () {
      yield* sys.kernel.smpCallFunctionMany(CpuMask.of(3, [1, 2]), function slow_pair() {}, null, true);
      returnedAt = sys.machine.now;
    });
    expect(sys.run().status).toBe("completed");
    expect(returnedAt).toBeGreaterThan(8e9);
    expect(sys.kernel.stuckCsds).toEqual([]);

    // The other way round, the first csd alone is waited on for 8 s: reported, once released.
    const late = testSystem(3, { csdLockTimeoutMs: 5000 });
    irqsOffFor(late, 1, 8e9);
    irqsOffFor(late, 2, 4e9);
    program(late, 0, function* () {
      yield* late.kernel.smpCallFunctionMany(CpuMask.of(3, [1, 2]), function slow_pair() {}, null, true);
    });
    expect(late.run().status).toBe("completed");
    expect(late.kernel.stuckCsds.map((s) => [s.targetCpu, s.reports, s.unstuck, s.releasedBy])).toEqual([
      [1, 1, true, 1],
    ]);
  });

  it("reports only once the wait is longer than the timeout (csd_lock_wait_toolong: at most the timeout is quiet)", () => {
    for (const kernel of ["6.1", "mainline"] as const) {
      const sys = testSystem(2, { kernel, csdLockTimeoutMs: 1 });
      irqsOffFor(sys, 1, 3_500_000);
      program(sys, 0, function* () {
        yield* sys.kernel.smpCallFunctionSingle(1, function ack() {}, null, true);
      });
      expect(sys.run().status).toBe("completed");
      const [r] = sys.kernel.stuckCsds;
      // The first check past 1 ms, one clock step (1 ns) after it, never at 1 ms itself.
      expect(r.waitedNs).toBe(1_000_001);
      const waited = r.lines
        .filter((l) => l.includes("non-responsive"))
        .map((l) => Number(/waiting (\d+) ns/.exec(l)![1]));
      // 6.1: each report 1 ms + 1 ns after the one before; mainline (2 CPUs online): then 2 ms + 1 ns.
      expect(waited).toEqual(kernel === "6.1" ? [1_000_001, 2_000_002, 3_000_003] : [1_000_001, 3_000_002]);
    }
  });

  it("a 3 ms callback under a 1 ms timeout is 'handling this request': reported, never re-sent", () => {
    const sys = testSystem(2, { csdLockTimeoutMs: 1 });
    function slow_cb(): CpuCode<void> {
      return (function* () {
        yield 3_000_000;
      })();
    }
    program(sys, 0, function* () {
      yield* sys.kernel.smpCallFunctionSingle(1, slow_cb, null, true);
    });
    expect(sys.run().status).toBe("completed");
    const [r] = sys.kernel.stuckCsds;
    // CPU 1 is idle, but the callback runs in the IPI's hard IRQ there: it handles this request.
    expect(r.targetDoing).toBe("handling this request");
    expect(r.resends).toBe(0);
    expect(sys.kernel.stats.watchdogResends).toBe(0);
    expect(r.reports).toBeGreaterThanOrEqual(2);
    expect(r.lines.filter((l) => l.includes("Re-sending"))).toEqual([]);
    expect(r.lines[0]).toMatch(
      /^csd: Detected non-responsive CSD lock \(#1\) on CPU#0, waiting \d+ ns for CPU#01 slow_cb/,
    );
    expect(r.lines[1]).toBe("\tcsd: CSD lock (#1) handling this request.");
    expect(r.lines[2]).toMatch(/^csd: Continued non-responsive CSD lock \(#1\)/);
    expect(r.lines[r.lines.length - 1]).toBe(
      "csd: CSD lock (#1) got unstuck on CPU#00, CPU#01 released the lock.",
    );
  });

  it("a lost IPI: the watchdog re-sends it straight through the arch (no tracepoint); without the watchdog the sender spins forever", () => {
    for (const csdLockWaitDebug of [true, false]) {
      const sys = testSystem(2, { csdLockTimeoutMs: 1, csdLockWaitDebug });
      const m = sys.machine;
      const raise = m.raise.bind(m);
      let dropped = 0;
      m.raise = (target, line, delay) => (dropped++ === 0 ? 0 : raise(target, line, delay));
      program(sys, 0, function* () {
        yield* sys.kernel.smpCallFunctionSingle(1, function lost_ack() {}, null, true);
      });
      const out = sys.run({ maxEvents: 100_000 });
      if (csdLockWaitDebug) {
        expect(out.status).toBe("completed");
        const [r] = sys.kernel.stuckCsds;
        expect(r.targetDoing).toBe("unresponsive (idle)");
        expect(r.resends).toBe(1);
        expect(r.lines).toContain("csd: Re-sending CSD lock (#1) IPI from CPU#00 to CPU#01");
        expect(sys.trace.count("ipi_send_cpu")).toBe(1);
        expect(sys.kernel.stats.ipisSingle).toBe(1);
      } else {
        expect(out.status).toBe("deadlock");
        expect(sys.kernel.stuckCsds).toEqual([]);
      }
    }
  });
});

describe("what the watchdog prints and when (kernel-smp.md 6)", () => {
  /** A callback that runs for `ns` on its target. */
  function slowFor(ns: number) {
    return function slow_cb(): CpuCode<void> {
      return (function* () {
        yield ns;
      })();
    };
  }

  it("names the callback with its info as the kernel prints it: numbers and strings as text, anything else as 0x0", () => {
    for (const [info, shown] of [
      [42, "slow_cb(42)"],
      ["tlb", "slow_cb(tlb)"],
      [{ pages: 3 }, "slow_cb(0x0)"],
      [null, "slow_cb(0x0)"],
    ] as const) {
      const sys = testSystem(2, { csdLockTimeoutMs: 1 });
      program(sys, 0, function* () {
        yield* sys.kernel.smpCallFunctionSingle(1, slowFor(1_500_000), info, true);
      });
      expect(sys.run().status).toBe("completed");
      const [r] = sys.kernel.stuckCsds;
      expect(r.lines[0]).toMatch(new RegExp(`for CPU#01 ${shown.replace(/[()]/g, "\\$&")}\\.$`));
    }
  });

  it("a target running another csd's callback is 'handling prior F(info) request', named as it started (not as its csd was refilled since)", () => {
    // __csd_lock_record copies func and info into cur_csd_func/cur_csd_info when the callback
    // starts, and the report prints those copies. An ASYNC csd is unlocked before its callback
    // runs, so its owner may refill and queue it again while the target is still running it.
    const sys = testSystem(3, { csdLockTimeoutMs: 1 });
    program(sys, 2, function* () {
      yield* sys.kernel.smpCallFunctionSingle(1, slowFor(3_000_000), 7, false);
      // The same per-CPU csd_data, refilled once CPU 1 unlocked it (it has started slow_cb).
      yield 50_000;
      yield* sys.kernel.smpCallFunctionSingle(1, function later_cb() {}, 8, false);
    });
    program(sys, 0, function* () {
      yield 100_000;
      yield* sys.kernel.smpCallFunctionSingle(1, function quick_cb() {}, null, true);
    });
    expect(sys.run().status).toBe("completed");
    const [r] = sys.kernel.stuckCsds;
    expect([r.waitingCpu, r.targetCpu, r.callback]).toEqual([0, 1, "quick_cb"]);
    expect(r.targetDoing).toBe("handling prior slow_cb(7) request");
    expect(r.lines[1]).toBe("\tcsd: CSD lock (#1) handling prior slow_cb(7) request.");
    // The target runs a csd callback: nothing to re-send, it will get to this one.
    expect(r.resends).toBe(0);
    expect(r.unstuck).toBe(true);
  });

  it("says what an unresponsive target does: running with interrupts off, or spinning on its own csd", () => {
    const running = testSystem(2, { csdLockTimeoutMs: 1 });
    irqsOffFor(running, 1, 1_500_000);
    program(running, 0, function* () {
      yield* running.kernel.smpCallFunctionSingle(1, function ack() {}, null, true);
    });
    expect(running.run().status).toBe("completed");
    expect(running.kernel.stuckCsds.map((s) => [s.targetDoing, s.targetIrqsDisabled, s.lines[1]])).toEqual([
      ["unresponsive (running)", true, "\tcsd: CSD lock (#1) unresponsive."],
    ]);

    const { sys, outcome } = twoCpusCallEachOther(1);
    expect(outcome.status).toBe("deadlock");
    // CPU 0 reports first (CPU 1 spins on its csd); CPU 1, a moment later, finds CPU 0 re-sending.
    const [first] = sys.kernel.stuckCsds;
    expect([first.waitingCpu, first.targetDoing]).toEqual([
      0,
      expect.stringMatching(/^unresponsive \(spinning on csd#\d+ \(ack_fn\) queued on CPU 0 by CPU 1\)$/),
    ]);
  });

  it("keeps the first 1000 lines of a wait that is reported for ever and counts the rest", () => {
    const sys = testSystem(2, { csdLockTimeoutMs: 1 });
    program(sys, 0, function* () {
      yield* sys.kernel.smpCallFunctionSingle(1, slowFor(800_000_000), null, true);
    });
    expect(sys.run().status).toBe("completed");
    const [r] = sys.kernel.stuckCsds;
    // Two lines per report ("Detected"/"Continued" and what the target does), then "got unstuck".
    expect(r.reports).toBe(800);
    expect(r.lines).toHaveLength(1000);
    expect(r.linesDropped).toBe(2 * r.reports + 1 - 1000);
    expect(r.lines[999]).toBe("\tcsd: CSD lock (#1) handling this request.");
  });

  it("a many-call's next csd is reported on its own clock, from the release of the one before it", () => {
    const sys = testSystem(3, { csdLockTimeoutMs: 5000 });
    irqsOffFor(sys, 1, 4e9);
    irqsOffFor(sys, 2, 16e9);
    program(sys, 0, function* () {
      yield* sys.kernel.smpCallFunctionMany(CpuMask.of(3, [1, 2]), function pair_cb() {}, null, true);
    });
    expect(sys.run().status).toBe("completed");
    const [r] = sys.kernel.stuckCsds;
    expect(r.targetCpu).toBe(2);
    // CPU 1 released its csd at about 4 s; CPU 2's wait is reported 5 s after that, as a 5 s wait.
    expect(r.waitedNs).toBeGreaterThanOrEqual(5e9);
    expect(r.waitedNs).toBeLessThan(5e9 + 1e6);
    expect(r.reports).toBe(2);
    expect(r.lines.filter((l) => l.startsWith("csd: Continued"))).toEqual([
      expect.stringMatching(
        /^csd: Continued non-responsive CSD lock \(#1\) on CPU#0, waiting 10\d{9} ns for CPU#02/,
      ),
    ]);
  });

  it("never reports a csd before its own clock ran out, whenever the one before it is released (even during a re-send)", () => {
    // CPU 1 turns interrupts on around the first report (1 ms), when the waiter re-sends its IPI;
    // CPU 2 stays off until 2.5 ms, so the waiter moves on to CPU 2's csd at the release time.
    for (let offAt = 999_000; offAt <= 1_003_000; offAt += 25) {
      const sys = testSystem(3, { csdLockTimeoutMs: 1 });
      irqsOffFor(sys, 1, offAt);
      irqsOffFor(sys, 2, 2_500_000);
      program(sys, 0, function* () {
        yield* sys.kernel.smpCallFunctionMany(CpuMask.of(3, [1, 2]), function pair_cb() {}, null, true);
      });
      expect(sys.run().status).toBe("completed");
      for (const r of sys.kernel.stuckCsds)
        expect([offAt, r.targetCpu, r.waitedNs >= 1e6]).toEqual([offAt, r.targetCpu, true]);
      expect(sys.kernel.stuckCsds.map((r) => r.targetCpu)).toContain(2);
    }
  });
});

describe("a waiting many-call: which csd it waits on, and since when", () => {
  it("a csd released out of order does not restart the clock: the next wait starts at the latest release before it", () => {
    const sys = testSystem(4, { csdLockTimeoutMs: 5000 });
    irqsOffFor(sys, 1, 4e9);
    irqsOffFor(sys, 2, 2e9);
    irqsOffFor(sys, 3, 16e9);
    program(sys, 0, function* () {
      yield* sys.kernel.smpCallFunctionMany(CpuMask.of(4, [1, 2, 3]), function trio_cb() {}, null, true);
    });
    expect(sys.run().status).toBe("completed");
    // The waiter waits on CPU 1's csd until 4 s, passes CPU 2's (released at 2 s), and waits on
    // CPU 3's from 4 s: reported at 9 s as a 5 s wait, not as 7 s (from 2 s) or 9 s (from 0).
    expect(
      sys.kernel.stuckCsds.map((s) => [s.targetCpu, s.waitedNs >= 5e9 && s.waitedNs < 5e9 + 1e6]),
    ).toEqual([[3, true]]);
  });

  it("a deadlocked many-call names the first csd it waits on and how many more", () => {
    for (const [callingBack, more] of [
      [[1, 2], " (+1 more csd(s) of the call)"],
      [[1], ""],
    ] as const) {
      const sys = testSystem(3);
      program(sys, 0, function* () {
        sys.machine.localIrqDisable();
        yield 10;
        yield* sys.kernel.smpCallFunctionMany(CpuMask.of(3, [1, 2]), function many_cb() {}, null, true);
        sys.machine.localIrqEnable();
      });
      for (const cpu of callingBack) {
        program(sys, cpu, function* () {
          sys.machine.localIrqDisable();
          yield 10;
          yield* sys.kernel.smpCallFunctionSingle(0, function back_cb() {}, null, true);
          sys.machine.localIrqEnable();
        });
      }
      const out = sys.run();
      expect(out.status).toBe("deadlock");
      const waiter = out.deadlock!.cpus.find((c) => c.cpu === 0)!;
      expect(waiter.waitsFor).toMatch(/^csd#\d+ \(many_cb\) queued on CPU 1 by CPU 0/);
      expect(waiter.waitsFor.replace(/^csd#\d+ \(many_cb\) queued on CPU 1 by CPU 0/, "")).toBe(more);
    }
  });
});

describe("a deadlock whose re-sent IPIs run code on the deadlocked CPUs", () => {
  it("sun4v (mondo traps taken with interrupts off): still reported as a deadlock with its cycle, not a step-limit livelock", () => {
    // CPUs 5 and 6 call each other with interrupts off and wait; CPU 4 waits on both. Each
    // watchdog report re-sends a mondo, which the deadlocked CPU takes as a trap (a one-entry mondo
    // queue: the sender retries): the watchdog's own activity used to end every stall, so the
    // run went on until the step limit.
    const sys = createSmpSystem({
      cpus: 7,
      seed: 0,
      arch: sparc,
      archOptions: { platform: "sun4v", mondoQueueDepth: "1", hypercallNs: "0", latencyNs: "0" },
      cost: { deliveryJitter: 0 },
    });
    const k = sys.kernel;
    const m = sys.machine;
    for (const [me, targets] of [
      [5, [1, 6]],
      [6, [5, 0]],
    ] as const)
      sys.spawn(
        me,
        (function* (): CpuCode<void> {
          yield 50;
          m.localIrqDisable();
          yield* k.smpCallFunctionMany(CpuMask.of(7, [...targets]), () => {}, null, true);
          m.localIrqEnable();
        })(),
      );
    sys.spawn(
      4,
      (function* (): CpuCode<void> {
        yield 50;
        yield* k.kickAllCpusSync();
      })(),
    );
    const out = m.run({ maxEvents: 200_000 });
    expect(out.status).toBe("deadlock");
    expect(out.deadlock?.cycle).toEqual([5, 6]);
    expect(k.stats.watchdogResends).toBeGreaterThan(0);
  });
});
