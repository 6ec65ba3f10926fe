import { describe, expect, it } from "@jest/globals";
import {
  ArchOptionError,
  CpuMask,
  createSmpSystem,
  runWorkload,
  type SmpSystem,
  type SystemConfig,
} from "@smpcall/core";
import { callbackRecorder, spawnProgram, type CallbackRun } from "@smpcall/core/testing";
import {
  CHEETAH_MAX_TARGETS,
  descriptor,
  LINE_SOFTINT_RESCHED,
  LINE_SOFTINT_SINGLE,
  MondoRetryState,
  type MondoIpi,
  mondoRetryDelayNs,
} from "@smpcall/arch-sparc";

function sparc(
  cpus: number,
  archOptions: Record<string, string> = {},
  extra: Partial<SystemConfig> = {},
): SmpSystem {
  return createSmpSystem({ cpus, seed: 1, arch: descriptor, archOptions, trace: true, ...extra });
}

function broadcastFrom(sys: SmpSystem, senders: number[]): CallbackRun[] {
  const log: CallbackRun[] = [];
  const fn = callbackRecorder(sys, log);
  for (const s of senders)
    spawnProgram(sys, s, function* () {
      yield* sys.kernel.smpCallFunction(fn, s, true);
    });
  return log;
}

function exactlyOnce(log: CallbackRun[], cpus: number, senders: number[]): void {
  for (const s of senders) {
    const got = log
      .filter((r) => r.info === s)
      .map((r) => r.cpu)
      .sort((a, b) => a - b);
    expect(got).toEqual(Array.from({ length: cpus }, (_, i) => i).filter((c) => c !== s));
  }
}

describe("arch-sparc: mondo cross-calls", () => {
  it("the sun4v retry wait comes from the initial target count: 2 us per CPU, clamped to 2..100 us", () => {
    expect([1, 2, 10, 50, 51, 500].map(mondoRetryDelayNs)).toEqual([
      2000, 4000, 20000, 100000, 100000, 100000,
    ]);
  });

  it("sun4v progress rules: a try delivering more than the one before, or a busy first target, resets the retries; the wait only after no delivery", () => {
    const st = new MondoRetryState(2);
    // Try 1 delivered 3 entries: progress, retry at once.
    expect(st.afterTry(3, 7, 0)).toBe("retry");
    // Try 2 delivered 1 (< 3): not "delivered" by the kernel's rule; CPU 7 took no mondo: wait.
    expect(st.afterTry(1, 7, 0)).toBe("wait");
    expect(st.retries).toBe(2);
    // CPU 7 took a mondo (someone else's) since the last look: busy counts as progress.
    expect(st.afterTry(0, 7, 1)).toBe("wait");
    expect(st.retries).toBe(1);
    expect(st.afterTry(0, 7, 1)).toBe("wait");
    expect(st.afterTry(0, 7, 1)).toBe("wait");
    // retries is now 3 > limit 2 with no progress: timeout; 5 retries counted in all.
    expect(st.afterTry(0, 7, 1)).toBe("timeout");
    expect(st.totalRetries + st.retries).toBe(5);
    // A new first CPU: its counter is only recorded, not compared.
    const other = new MondoRetryState(10);
    expect(other.afterTry(0, 3, 40)).toBe("wait");
    expect(other.afterTry(0, 4, 90)).toBe("wait");
    expect(other.retries).toBe(2);
  });

  it("sun4v: the hypervisor delivers each entry as its walk of the CPU list reaches it (hypercallNs, then hvTargetNs per entry), not when the call starts; the delivery jitter varies only the latency after it", () => {
    // CPU 1 samples CPU 3's queue while CPU 0's hypercall runs: it must not find the entry
    // before the hypervisor has written it (1000 + 2000 + 100 = 3100).
    const seen: number[] = [];
    const sys = sparc(4, {}, { cost: { deliveryJitter: 0 } });
    const a = sys.arch as MondoIpi;
    let start = -1;
    let end = -1;
    spawnProgram(sys, 0, function* () {
      yield 1000;
      start = sys.machine.now;
      yield* sys.arch.sendCallFunctionSingleIpi(3);
      end = sys.machine.now;
    });
    spawnProgram(sys, 1, function* () {
      yield 1050;
      for (let i = 0; i < 30; i++) {
        seen.push(a.queueDepthOf(3) + a.mondoCounterOf(3));
        yield 100;
      }
    });
    expect(sys.run().status).toBe("completed");
    // Samples at 1050 + 100 k: nothing up to 3050, then the entry.
    expect(seen.slice(0, 21)).toEqual(Array(21).fill(0));
    expect(seen.slice(21).every((x) => x === 1)).toBe(true);
    // The call returns when the walk ends, plus the machine's spin-wake cost (60 ns) as any wait.
    expect([start, end]).toEqual([1000, 3160]);
    // A list of four: entry k is written at 1000 + 2000 + 100 (k + 1); the call returns after the last.
    const four = sparc(8, { hvTargetNs: "500" }, { cost: { deliveryJitter: 0 } });
    const f = four.arch as MondoIpi;
    const written: number[][] = [];
    spawnProgram(four, 0, function* () {
      yield 1000;
      yield* four.arch.sendCallFunctionIpiMask(CpuMask.of(8, [2, 4, 5, 7]));
      written.push([four.machine.now]);
    });
    spawnProgram(four, 1, function* () {
      yield 3250;
      for (let i = 0; i < 4; i++) {
        written.push([2, 4, 5, 7].map((c) => f.queueDepthOf(c) + f.mondoCounterOf(c)));
        yield 500;
      }
    });
    expect(four.run().status).toBe("completed");
    expect(written).toEqual([
      [0, 0, 0, 0], // 3250
      [1, 0, 0, 0], // 3750: CPU 2's entry at 3500
      [1, 1, 0, 0], // 4250
      [1, 1, 1, 0], // 4750
      [5060], // the call returns with the last entry (+ the spin-wake cost)
    ]);
    // With the default jitter (±10%), the trap lands 2000 + 100 + 1000 ± 100 ns after the send began.
    for (let seed = 1; seed <= 40; seed++) {
      const j = createSmpSystem({ cpus: 4, seed, arch: descriptor, trace: true });
      spawnProgram(j, 0, function* () {
        yield 1000;
        yield* j.arch.sendCallFunctionSingleIpi(3);
      });
      spawnProgram(j, 3, function* () {
        for (let i = 0; i < 1000; i++) yield 10; // busy: the trap is taken at the next step boundary
      });
      expect(j.run().status).toBe("completed");
      const entry = j.trace.named("ipi_entry").find((r) => r.cpu === 3)!;
      expect(entry.ts).toBeGreaterThanOrEqual(1000 + 2100 + 900);
      expect(entry.ts).toBeLessThanOrEqual(1000 + 2100 + 1100 + 10);
    }
  });

  it("sun4v: the sender takes no trap during its cpu_mondo_send (traps held while the hypervisor walks the list); one that arrives meanwhile is taken when it returns", () => {
    // CPU 0 broadcasts to 15 CPUs at 1 us per entry: its hypercall runs 1000..18060. CPU 15's
    // single IPI to CPU 0 lands at 1000 + 2000 + 1000 + 1000 = 5000, inside it.
    const sys = sparc(16, { hvTargetNs: "1000" }, { cost: { deliveryJitter: 0 }, trace: true });
    let end = -1;
    spawnProgram(sys, 0, function* () {
      yield 1000;
      yield* sys.arch.sendCallFunctionIpiMask(
        CpuMask.of(
          16,
          Array.from({ length: 15 }, (_, i) => i + 1),
        ),
      );
      end = sys.machine.now;
    });
    spawnProgram(sys, 15, function* () {
      yield 1000;
      yield* sys.arch.sendCallFunctionSingleIpi(0);
    });
    expect(sys.run().status).toBe("completed");
    expect(end).toBe(18_060);
    const trap = sys.trace.named("ipi_entry").find((r) => r.cpu === 0)!;
    expect(trap.ts).toBeGreaterThanOrEqual(18_060);
    expect(sys.machine.cpus[0].trapsHeld).toBe(false);
  });

  it("sun4u: a dispatched mondo's data is in the target's incoming register when the vector arrives, not from the dispatch on", () => {
    for (const platform of ["sun4u-cheetah", "sun4u-spitfire"]) {
      const sys = sparc(4, { platform }, { cost: { deliveryJitter: 0 } });
      const a = sys.arch as MondoIpi;
      const seen: [number, number][] = [];
      spawnProgram(sys, 0, function* () {
        yield 1000;
        yield* sys.arch.sendCallFunctionSingleIpi(3);
      });
      spawnProgram(sys, 1, function* () {
        yield 1050;
        for (let i = 0; i < 30; i++) {
          seen.push([a.queueDepthOf(3), a.mondoCounterOf(3)]);
          yield 100;
        }
      });
      expect(sys.run().status).toBe("completed");
      // Nothing readable in the register until the vector arrives (dispatch + latency), then taken.
      expect(seen.every(([q]) => q === 0)).toBe(true);
      const arrived = seen.findIndex(([, n]) => n === 1);
      expect(arrived).toBeGreaterThan(9); // not within the first microsecond after the dispatch
      expect(seen.slice(arrived).every(([, n]) => n === 1)).toBe(true);
    }
  });

  it("Cheetah: each slot's vector leaves at its dispatch offset in the batch, exactly; the delivery jitter varies only the latency after it", () => {
    for (let seed = 1; seed <= 10; seed++) {
      const sys = createSmpSystem({
        cpus: 16,
        seed,
        arch: descriptor,
        archOptions: { platform: "sun4u-cheetah" },
        trace: true,
      });
      for (let cpu = 1; cpu < 16; cpu++)
        spawnProgram(sys, cpu, function* () {
          for (let i = 0; i < 1000; i++) yield 10; // busy: a trap is taken at the next step boundary
        });
      spawnProgram(sys, 0, function* () {
        yield 1000;
        yield* sys.arch.sendCallFunctionIpiMask(
          CpuMask.of(
            16,
            [...Array(15).keys()].map((i) => i + 1),
          ),
        );
      });
      expect(sys.run().status).toBe("completed");
      const traps = sys.trace.named("ipi_entry").filter((x) => x.cpu > 0 && x.fields.reason === "cpu mondo");
      expect(traps.length).toBe(15);
      for (const r of traps) {
        // Target k is slot k of the batch: its vector leaves k x 100 ns (dispatchNs) after 1000.
        const sent = 1000 + r.cpu * 100;
        expect(r.ts).toBeGreaterThanOrEqual(sent + 900);
        expect(r.ts).toBeLessThanOrEqual(sent + 1100 + 10);
      }
    }
  });

  it("interrupts off is a PIL raise: the target still takes the mondo trap, frees the slot and sets the softint; only the callback waits", () => {
    const sys = sparc(8, { mondoQueueDepth: "1" });
    const log: CallbackRun[] = [];
    const a = sys.arch as MondoIpi;
    const seen: Record<string, unknown> = {};
    spawnProgram(sys, 3, function* () {
      sys.machine.localIrqDisable();
      for (let i = 0; i < 200; i++) yield 100; // busy with interrupts off; traps come between steps
      seen.queue = a.queueDepthOf(3);
      seen.softintPending = sys.machine.isPending(3, LINE_SOFTINT_SINGLE);
      seen.ranBeforeEnable = log.length;
      seen.traps = a.mondoCounterOf(3);
      sys.machine.localIrqEnable();
      yield 10;
    });
    spawnProgram(sys, 0, function* () {
      yield 100;
      yield* sys.kernel.smpCallFunctionSingle(3, callbackRecorder(sys, log), "x", false);
      // A second mondo to the one-entry queue is accepted: the first trap freed the slot.
      yield 5000;
      yield* sys.arch.sendCallFunctionSingleIpi(3);
    });
    expect(sys.run().status).toBe("completed");
    expect(seen).toEqual({ queue: 0, softintPending: true, ranBeforeEnable: 0, traps: 2 });
    expect(log.map((r) => r.cpu)).toEqual([3]);
    expect(sys.arch.statistics()).toMatchObject({ wouldBlocks: 0, retries: 0, mondoTraps: 2, softints: 1 });
    expect(sys.machine.cpus[3].counters.irqsTaken).toBe(3);
  });

  it("one trap takes one queue entry: three mondos queued while the target takes no traps are three traps, their softints coalesce", () => {
    const sys = sparc(8, { trapStallCpus: "3", trapStallNs: "50000" });
    const log: CallbackRun[] = [];
    const fn = callbackRecorder(sys, log);
    for (const s of [0, 1, 2])
      spawnProgram(sys, s, function* () {
        yield 100 * s;
        yield* sys.kernel.smpCallFunctionSingle(3, fn, s, false);
        yield* sys.arch.sendCallFunctionSingleIpi(3);
      });
    let queuedDuringStall = -1;
    spawnProgram(sys, 4, function* () {
      yield 40_000;
      queuedDuringStall = (sys.arch as MondoIpi).queueDepthOf(3);
    });
    expect(sys.run().status).toBe("completed");
    // The first call's IPI (the other two found CPU 3's call queue non-empty) + 3 direct sends.
    expect(queuedDuringStall).toBe(4);
    const st = sys.arch.statistics();
    expect(st).toMatchObject({ mondoTraps: 4, mondoEntries: 4, mondosDelivered: 4 });
    expect(sys.trace.named("sparc_mondo").filter((r) => r.cpu === 3).length).toBe(4);
    expect(st.softintsCoalesced).toBeGreaterThan(0);
    expect(st.softints).toBeLessThan(st.mondoEntries);
    expect(log.map((r) => r.info).sort()).toEqual([0, 1, 2]);
    // Every trap was taken at or after the end of the stall.
    expect(sys.trace.named("sparc_mondo").every((r) => r.ts >= 50_000)).toBe(true);
  });

  it("sun4v: a full mondo queue needs a target that takes no traps (stuck in the hypervisor): would-block, retries, every call runs once", () => {
    const run = (opts: Record<string, string>) => {
      const sys = sparc(16, { mondoQueueDepth: "1", ...opts });
      const log: CallbackRun[] = [];
      const fn = callbackRecorder(sys, log);
      // CPU 5 also keeps interrupts off for a while: that alone never fills its queue.
      spawnProgram(sys, 5, function* () {
        sys.machine.localIrqDisable();
        for (let i = 0; i < 1000; i++) yield 100;
        sys.machine.localIrqEnable();
        yield 10;
      });
      for (const s of [0, 1, 2, 3]) {
        spawnProgram(sys, s, function* () {
          yield 10_000 * (s + 1); // one sender at a time: a mondo in flight holds its slot too
          yield* sys.kernel.smpCallFunctionSingle(5, fn, s, false);
          yield 5000;
          yield* sys.arch.sendRescheduleIpi(5);
        });
      }
      expect(sys.run().status).toBe("completed");
      expect(log.map((r) => r.info).sort()).toEqual([0, 1, 2, 3]);
      expect(log.every((r) => r.cpu === 5)).toBe(true);
      expect(sys.machine.problems).toEqual([]);
      return sys.arch.statistics();
    };
    const irqsOffOnly = run({});
    expect(irqsOffOnly).toMatchObject({ wouldBlocks: 0, retries: 0 });
    const stalled = run({ trapStallCpus: "5", trapStallNs: "60000" });
    expect(stalled.wouldBlocks).toBeGreaterThan(0);
    expect(stalled.retries).toBeGreaterThan(0);
    // One target each: the wait is 2 us, spent only after tries that delivered nothing.
    expect(stalled.retryNs).toBe(stalled.udelays * 2000);
    expect(stalled.mondosDelivered).toBe(stalled.mondoEntries);
  });

  it("sun4v: the wait is computed once from the initial count: 63 targets wait 100 us per empty try even when one CPU remains", () => {
    const sys = sparc(64, { mondoQueueDepth: "1", trapStallCpus: "5", trapStallNs: "1000000" });
    const a = sys.arch as MondoIpi;
    const log: CallbackRun[] = [];
    spawnProgram(sys, 0, function* () {
      yield* sys.arch.sendRescheduleIpi(5); // fills CPU 5's one-entry queue while it takes no traps
      yield* sys.kernel.smpCallFunction(callbackRecorder(sys, log), null, true);
    });
    expect(sys.run().status).toBe("completed");
    expect(log).toHaveLength(63);
    const st = sys.arch.statistics();
    // Try 1 delivered 62 (progress, no wait); then only CPU 5 is left, and every empty try waits
    // 100 us (63 x 2 us, clamped), not 2 us for the one remaining CPU.
    expect(st.udelays).toBeGreaterThan(5);
    expect(st.retryNs).toBe(st.udelays * 100_000);
    expect(st.retries).toBe(st.udelays + 1);
    expect(a.mondoCounterOf(5)).toBe(2);
  });

  it("sun4v: a mondo timeout is a kernel panic naming the CPU; the run ends with status panic and the calls left queued are reported", () => {
    const sys = sparc(
      4,
      { mondoQueueDepth: "1", retryLimit: "5", trapStallCpus: "2", trapStallNs: "10000000" },
      { csdLockTimeoutMs: 0 },
    );
    let after = false;
    spawnProgram(sys, 0, function* () {
      yield* sys.arch.sendRescheduleIpi(2); // fills the queue of CPU 2, which takes no traps
      yield* sys.kernel.smpCallFunctionSingle(2, () => undefined, null, true);
      after = true;
    });
    const out = sys.run();
    expect(out.status).toBe("panic");
    expect(after).toBe(false);
    const panic = out.problems.find((p) => p.kind === "panic")!;
    expect(panic.cpu).toBe(2);
    expect(panic.message).toMatch(
      /CPU\[0\]: SUN4V mondo timeout, cpu\(2\) made no forward progress after 6 retries\. Total target cpus\(1\)\..*panic/,
    );
    const queued = out.problems.filter((p) => p.kind === "lost-call");
    expect(queued.map((p) => p.cpu)).toEqual([2]);
    expect(queued[0].message).toMatch(/left queued when the kernel panicked/);
    expect(sys.arch.statistics().mondoTimeouts).toBe(1);
    // The panic ended the run long before the stall would have: no event after it.
    expect(out.timeNs).toBeLessThan(1_000_000);
  });

  it("sun4v: on HV_ECPUERROR the sender asks cpu_state of every CPU left in the list, a hypercall each", () => {
    const sendTime = (opts: Record<string, string>): { ns: number; st: Record<string, number> } => {
      const sys = sparc(8, { mondoQueueDepth: "1", trapStallNs: "20000", ...opts }, { csdLockTimeoutMs: 0 });
      let ns = -1;
      spawnProgram(sys, 0, function* () {
        if (opts.trapStallCpus !== undefined) yield* sys.arch.sendRescheduleIpi(5); // CPU 5's queue is full
        const t0 = sys.machine.now;
        yield* sys.arch.sendCallFunctionIpiMask(CpuMask.of(8, [1, 2, 5, 6]));
        ns = sys.machine.now - t0;
      });
      sys.run();
      return { ns, st: sys.arch.statistics() };
    };
    const clean = sendTime({});
    // The hypercall (2000) walks four entries (100 each), then the sender wakes (60).
    expect(clean).toMatchObject({ ns: 2460, st: { hypercalls: 1, cpuStateCalls: 0 } });
    // CPU 6 in error: the try returns HV_ECPUERROR with 6 left; cpu_state(6) finds it in error.
    const error = sendTime({ errorCpus: "6" });
    expect(error).toMatchObject({ ns: 4460, st: { hypercalls: 1, cpuStateCalls: 1, cpuErrors: 1 } });
    // CPU 5 (queue full) is left too: cpu_state is asked of both, 5 stays and is retried.
    const both = sendTime({ errorCpus: "6", trapStallCpus: "5" });
    expect(both.st).toMatchObject({ cpuStateCalls: 2, cpuErrors: 1 });
    expect(both.st.hypercalls).toBeGreaterThan(2);
  });

  it("sun4v: cpu_mondo_send returns at the first CPU in error, the entries after it not visited; the kernel asks cpu_state of all of them and its retry delivers them", () => {
    const sys = sparc(8, { errorCpus: "1" }, { csdLockTimeoutMs: 0, cost: { deliveryJitter: 0 } });
    let ns = -1;
    const queuedAt: number[] = [];
    spawnProgram(sys, 0, function* () {
      const t0 = sys.machine.now;
      yield* sys.arch.sendCallFunctionIpiMask(CpuMask.of(8, [1, 2, 5, 6]));
      ns = sys.machine.now - t0;
    });
    for (const c of [2, 5, 6])
      spawnProgram(sys, c, function* () {
        while (sys.machine.cpus[c].counters.irqsTaken === 0) yield 100;
        queuedAt.push(sys.machine.now);
      });
    sys.run();
    // Try 1: the call's fixed part (2000) and entry 0 (100): CPU 1 in error, the call returns
    // (+60 spin-wake). cpu_state of the four entries left (4 x 2000); CPU 1 dropped. Nothing was
    // delivered: udelay(2 us x 4 initial targets). Try 2: 2000 + 3 x 100 + 60, every entry done.
    expect(ns).toBe(2160 + 8000 + 8000 + 2360);
    expect(sys.arch.statistics()).toMatchObject({
      hypercalls: 2,
      cpuStateCalls: 4,
      cpuErrors: 1,
      retries: 1,
      udelays: 1,
      mondosDelivered: 3,
    });
    // No target got its mondo before the second try.
    expect(Math.min(...queuedAt)).toBeGreaterThan(2160 + 16_000);
  });

  it("sun4v: HV_ENOCPU — a target that went offline during the retries is dropped and reported", () => {
    const sys = sparc(8, { mondoQueueDepth: "1", trapStallCpus: "5,6", trapStallNs: "300000" });
    spawnProgram(sys, 0, function* () {
      yield* sys.arch.sendRescheduleIpi(5);
      yield* sys.arch.sendRescheduleIpi(6);
      // Both queues are full: the cross-call retries until CPU 6 is taken down.
      yield* sys.arch.sendCallFunctionSingleIpi(5);
    });
    spawnProgram(sys, 1, function* () {
      yield 1000;
      yield* sys.arch.sendRescheduleIpi(5);
    });
    spawnProgram(sys, 2, function* () {
      yield 10_000;
      // A mask send to 5 and 6 (both queues full by now), then 6 goes offline while it retries.
      yield* sys.arch.sendCallFunctionIpiMask(CpuMask.of(8, [5, 6]));
    });
    spawnProgram(sys, 3, function* () {
      yield 50_000;
      // cpuDown goes through stop_machine, which waits for CPU 2 to leave its interrupts-off
      // cross-call: CPU 6 leaves the domain under it instead (cleared from the online mask).
      sys.machine.cpus[6].online = false;
      sys.machine.onlineMask.clear(6);
    });
    const out = sys.run();
    const st = sys.arch.statistics();
    expect(st.noCpus).toBe(1);
    const report = out.problems.find((p) => p.kind === "arch-error")!;
    expect(report).toMatchObject({ cpu: 6 });
    expect(report.message).toMatch(
      /CPU\[2\]: SUN4V mondo cpu error, target cpu\(6\) does not belong to the domain/,
    );
  });

  it("sun4v: injected would-block results are retried to completion (seeded)", () => {
    const { report } = runWorkload({
      cpus: 64,
      seed: 5,
      arch: descriptor,
      archOptions: { wouldBlockRate: "0.3" },
      workload: "broadcast",
      ops: 16,
    });
    expect(report.problems).toEqual([]);
    expect(report.arch.wouldBlocks).toBeGreaterThan(0);
    expect(report.counts.callbacksRun).toBe(16 * 63);
  });

  it("sun4u-cheetah: with a 30% NACK rate a 64-CPU broadcast completes and reports its retries", () => {
    const sys = sparc(64, { platform: "sun4u-cheetah", nackRate: "0.3" });
    const log = broadcastFrom(sys, [0]);
    expect(sys.run().status).toBe("completed");
    exactlyOnce(log, 64, [0]);
    const st = sys.arch.statistics();
    expect(st.nacks).toBeGreaterThan(5);
    expect(st.retries).toBeGreaterThan(0);
    expect(st.maxDispatchBatch).toBeLessThanOrEqual(CHEETAH_MAX_TARGETS);
  });

  it("sun4u-cheetah never dispatches to more than 32 targets at once; spitfire to one", () => {
    for (const [platform, max, dispatches] of [
      ["sun4u-cheetah", 32, 2],
      ["sun4u-spitfire", 1, 63],
    ] as const) {
      const sys = sparc(64, { platform });
      broadcastFrom(sys, [0]);
      sys.run();
      expect(sys.arch.statistics()).toMatchObject({ maxDispatchBatch: max, dispatches });
    }
  });

  it("a CPU in error is dropped and reported by id, the core watchdog sees the stuck csd, and the run has problems (CLI exit 1)", () => {
    const sys = sparc(8, { errorCpus: "6" }, { csdLockTimeoutMs: 1 });
    broadcastFrom(sys, [0]);
    const out = sys.run();
    expect(out.status).toBe("deadlock");
    const kinds = out.problems.map((p) => p.kind);
    expect(kinds).toEqual(expect.arrayContaining(["arch-error", "stuck-csd", "deadlock"]));
    expect(out.problems.find((p) => p.kind === "arch-error")!.message).toMatch(
      /target cpu\(6\) was in error state/,
    );
    expect(sys.kernel.stuckCsds[0]).toMatchObject({ waitingCpu: 0, targetCpu: 6 });
    expect(sys.arch.statistics().cpuErrors).toBeGreaterThanOrEqual(1);
  });

  it("sun4u-cheetah: NACKed slots are retried after 2 us x the slots of the batch, without limit", () => {
    // CPU 5's incoming register is full (it takes no traps for 1 ms): every batch NACKs it.
    const sys = sparc(8, { platform: "sun4u-cheetah", trapStallCpus: "5", trapStallNs: "1000000" });
    const log: CallbackRun[] = [];
    spawnProgram(sys, 0, function* () {
      yield* sys.arch.sendRescheduleIpi(5); // the first mondo occupies the register
      yield* sys.kernel.smpCallFunction(callbackRecorder(sys, log), null, true);
    });
    expect(sys.run().status).toBe("completed");
    expect(log).toHaveLength(7);
    const st = sys.arch.statistics();
    // The first batch has 7 slots (14 us back-off), the following ones only CPU 5 (2 us each);
    // far more rounds than any retry limit, and no stuckage.
    expect(st.nacks).toBeGreaterThan(100);
    expect(st.retryNs).toBe(14_000 + (st.udelays - 1) * 2000);
    expect(st).toMatchObject({ mondoStuckages: 0, mondoTimeouts: 0 });
    expect(sys.machine.problems).toEqual([]);
  });

  it("sun4u: mondo stuckage only when BUSY never clears (errorCpus): reported, the rest of the cross-call given up", () => {
    for (const platform of ["sun4u-cheetah", "sun4u-spitfire"]) {
      const sys = sparc(8, { platform, errorCpus: "6" }, { csdLockTimeoutMs: 1 });
      broadcastFrom(sys, [0]);
      // The watchdog re-sends to CPU 6 for ever (each re-send is another stuckage): bound the run.
      const out = sys.run({ maxEvents: 20_000 });
      const report = out.problems.find((p) => p.kind === "arch-error")!;
      expect(report.cpu).toBe(6);
      expect(report.message).toMatch(/mondo stuckage: the dispatch BUSY bit for cpu\(6\) never cleared/);
      expect(sys.arch.statistics().mondoStuckages).toBeGreaterThanOrEqual(1);
    }
  });

  it("sun4u-spitfire: a NACK is retried after 2 us with interrupts enabled, forever", () => {
    const sys = sparc(8, { platform: "sun4u-spitfire", trapStallCpus: "3", trapStallNs: "400000" });
    const log: CallbackRun[] = [];
    spawnProgram(sys, 0, function* () {
      yield* sys.arch.sendRescheduleIpi(3);
      yield* sys.kernel.smpCallFunctionSingle(3, callbackRecorder(sys, log), null, true);
    });
    // Meanwhile CPU 0 keeps taking mondos from CPU 1 while it retries (traps between its delays).
    spawnProgram(sys, 1, function* () {
      yield 50_000;
      yield* sys.arch.sendRescheduleIpi(0);
    });
    expect(sys.run().status).toBe("completed");
    expect(log.map((r) => r.cpu)).toEqual([3]);
    const st = sys.arch.statistics();
    expect(st.nacks).toBeGreaterThan(50);
    expect(st.retryNs).toBe(st.nacks * 2000);
    expect(st.mondoStuckages).toBe(0);
    expect((sys.arch as MondoIpi).mondoCounterOf(0)).toBe(1);
    expect(sys.trace.named("sparc_mondo").find((r) => r.cpu === 0)!.ts).toBeLessThan(400_000);
  });

  it("offline CPUs and self are never in the CPU list", () => {
    const sys = sparc(8);
    sys.kernel.cpuDown(4);
    spawnProgram(sys, 0, function* () {
      yield 1000;
      yield* sys.arch.sendCallFunctionSingleIpi(0);
      yield* sys.arch.sendCallFunctionSingleIpi(4);
    });
    sys.run();
    expect(sys.arch.statistics()).toMatchObject({ hypercalls: 0, mondoTraps: 0 });
  });

  it("every call runs exactly once on each platform (mixed workload)", () => {
    for (const platform of ["sun4v", "sun4u-cheetah", "sun4u-spitfire"]) {
      const { report } = runWorkload({
        cpus: 16,
        seed: 2,
        arch: descriptor,
        archOptions: { platform },
        workload: "mixed",
        ops: 200,
      });
      expect(report.problems).toEqual([]);
      expect(report.counts.callbacksRun).toBe(report.counts.csdsQueued + report.counts.callbacksLocal);
    }
  });

  it("pending softints run in PIL order: call-function-single (PIL 6), then receive-signal (PIL 2), then call-function (PIL 1)", () => {
    // CPU 3 keeps interrupts off (PIL raised) while a call-function, a reschedule and a
    // call-function-single mondo arrive: the traps set three softint bits; when PIL drops the CPU
    // takes the highest pending level first, as sparc64's interrupt_level_n traps are ordered.
    const sys = sparc(8);
    spawnProgram(sys, 3, function* () {
      sys.machine.localIrqDisable();
      for (let i = 0; i < 100; i++) yield 100;
      sys.machine.localIrqEnable();
      yield 10;
    });
    spawnProgram(sys, 0, function* () {
      yield 100;
      // Two targets: the core sends one mask IPI (xcall_call_function).
      yield* sys.kernel.smpCallFunctionMany(CpuMask.of(8, [3, 4]), () => undefined, null, false);
      yield* sys.arch.sendRescheduleIpi(3);
      yield* sys.arch.sendCallFunctionSingleIpi(3);
    });
    expect(sys.run().status).toBe("completed");
    const reasons = sys.trace
      .named("ipi_entry")
      .filter((r) => r.cpu === 3)
      .map((r) => r.fields.reason)
      .filter((r) => String(r).startsWith("softint"));
    expect(reasons).toEqual([
      "softint PIL_SMP_CALL_FUNC_SNGL",
      "softint PIL_SMP_RECEIVE_SIGNAL",
      "softint PIL_SMP_CALL_FUNC",
    ]);
  });

  describe("the sender takes mondo traps where the kernel's loop lets it (PIL raised, PSTATE.IE set)", () => {
    /** When CPU 0 took the mondo CPU 1 sent it at `sendAt` while CPU 0 was in its cross-call. */
    function trapOfCpu0(sys: SmpSystem, sendAt: number): { sent: number; trap: number; end: number } {
      let end = -1;
      let sent = -1;
      spawnProgram(sys, 0, function* () {
        yield* sys.kernel.smpCallFunction(() => undefined, null, true);
        end = sys.machine.now;
      });
      spawnProgram(sys, 1, function* () {
        yield sendAt;
        sent = sys.machine.now;
        yield* sys.arch.sendRescheduleIpi(0);
      });
      expect(sys.run().status).toBe("completed");
      const trap = sys.trace.named("sparc_mondo").find((r) => r.cpu === 0)!.ts;
      return { sent, trap, end };
    }

    it("sun4v: during the retry udelay (only the hypercall itself takes no traps)", () => {
      // CPU 5's one-entry queue is full while it takes no traps: every try after the first
      // waits 100 us (63 initial targets).
      const sys = sparc(64, { mondoQueueDepth: "1", trapStallCpus: "5", trapStallNs: "400000" });
      spawnProgram(sys, 2, function* () {
        yield* sys.arch.sendRescheduleIpi(5);
      });
      const { sent, trap, end } = trapOfCpu0(sys, 50_000);
      expect(sys.arch.statistics().udelays).toBeGreaterThan(2);
      // Hypercall 2 us + delivery 1 us (+ jitter): taken at once, not when the 100 us wait ends.
      expect(trap - sent).toBeLessThan(4000);
      expect(end).toBeGreaterThan(400_000);
    });

    it("sun4u-cheetah: during the NACK back-off (PSTATE.IE is back on)", () => {
      const sys = sparc(64, { platform: "sun4u-cheetah", trapStallCpus: "5", trapStallNs: "300000" });
      spawnProgram(sys, 2, function* () {
        yield* sys.arch.sendRescheduleIpi(5);
      });
      // The first batch (32 slots) NACKs at CPU 5 and backs off 64 us; CPU 1's mondo lands in it.
      const { sent, trap } = trapOfCpu0(sys, 20_000);
      expect(sys.arch.statistics().nacks).toBeGreaterThan(0);
      expect(trap - sent).toBeLessThan(2000);
    });

    it("sun4u-spitfire: between two targets of the loop (each dispatch restores PSTATE.IE)", () => {
      const sys = sparc(64, { platform: "sun4u-spitfire" });
      // 63 targets x (100 + 300 ns) = 25.2 us of dispatches from ~7 us on; CPU 1 sends at 12 us.
      const { sent, trap, end } = trapOfCpu0(sys, 12_000);
      expect(trap - sent).toBeLessThan(2000);
      expect(end - trap).toBeGreaterThan(15_000);
    });
  });

  it("smp_send_reschedule to the sending CPU itself sets its receive-signal softint: no mondo, scheduler_ipi runs once PIL drops", () => {
    for (const platform of ["sun4v", "sun4u-cheetah", "sun4u-spitfire"]) {
      const sys = sparc(4, { platform });
      let pendingWithIrqsOff = false;
      const schedulerIpisOn2: number[] = [];
      const schedulerIpi = sys.kernel.schedulerIpi.bind(sys.kernel);
      sys.kernel.schedulerIpi = () => {
        schedulerIpisOn2.push(sys.machine.current);
        schedulerIpi();
      };
      let beforeEnable = -1;
      let afterEnable = -1;
      spawnProgram(sys, 2, function* () {
        yield 1000;
        sys.machine.localIrqDisable();
        yield* sys.kernel.smpSendReschedule(2);
        yield 100;
        pendingWithIrqsOff = sys.machine.isPending(2, LINE_SOFTINT_RESCHED);
        beforeEnable = schedulerIpisOn2.length;
        sys.machine.localIrqEnable();
        yield 100;
        afterEnable = schedulerIpisOn2.length;
      });
      expect(sys.run().status).toBe("completed");
      expect(pendingWithIrqsOff).toBe(true);
      expect([beforeEnable, afterEnable]).toEqual([0, 1]);
      expect(schedulerIpisOn2).toEqual([2]);
      expect(sys.arch.statistics()).toMatchObject({
        hypercalls: 0,
        dispatches: 0,
        mondosDelivered: 0,
        softints: 1,
      });
      expect(
        sys.trace
          .named("ipi_entry")
          .filter((r) => r.cpu === 2)
          .map((r) => r.fields.reason),
      ).toEqual(["softint PIL_SMP_RECEIVE_SIGNAL"]);
    }
  });

  it.each(["sun4v", "sun4u-cheetah", "sun4u-spitfire"])(
    "%s: smp_send_reschedule to an offline CPU reaches the arch, whose xcall_deliver leaves it out of the CPU list: nothing sent, no warning",
    (platform) => {
      const sys = sparc(4, { platform });
      expect(sys.kernel.cpuDown(3)).toBe(0);
      spawnProgram(sys, 0, function* () {
        yield 1000;
        yield* sys.kernel.smpSendReschedule(3);
        yield 10_000;
        sys.kernel.cpuUp(3);
        yield 10_000;
      });
      expect(sys.run().status).toBe("completed");
      expect(sys.kernel.stats.rescheduleIpis).toBe(1);
      expect(sys.trace.named("ipi_send_cpu").map((r) => r.fields.cpu)).toEqual([3]);
      expect(sys.arch.statistics()).toMatchObject({
        hypercalls: 0,
        dispatches: 0,
        mondosDelivered: 0,
        softints: 0,
      });
      expect(sys.machine.cpus[3].counters.irqsTaken).toBe(0);
      expect(sys.kernel.warnings.records).toEqual([]);
    },
  );

  it("bad options are refused with the choices", () => {
    expect(() => sparc(8, { platform: "sun4d" })).toThrow(ArchOptionError);
    expect(() => sparc(8, { platform: "sun4d" })).toThrow(
      /expected sun4v \| sun4u-cheetah \| sun4u-spitfire/,
    );
    expect(() => sparc(8, { nackRate: "1" })).toThrow(/expected number 0\.\.0\.99/);
    expect(() => sparc(8, { trapStallCpus: "8" })).toThrow(/option trapStallCpus of arch sparc/);
    expect(() => sparc(8, { errorCpus: "9" })).toThrow(
      /option errorCpus of arch sparc: cpulist part "9" is outside 0-7/,
    );
  });
});
