import { describe, expect, it } from "@jest/globals";
import { descriptor as generic } from "@smpcall/arch-generic";
import {
  decodeSchedule,
  explore,
  getPolicy,
  getScenario,
  replay,
  CpuMask,
  type CpuCode,
  type ExploreConfig,
  type IdleMode,
} from "@smpcall/core";
import { program, recorder, testSystem, type Run } from "./helpers";

describe("idle as the kernel does it (kernel-smp.md section 3 item 3)", () => {
  it("a halted CPU runs a call queued just after its previous IPI in that call's own IPI handler, not from the idle task", () => {
    const sys = testSystem(2, { idle: "halt", archOptions: { latencyNs: 5000 } });
    const log: Run[] = [];
    let aStarted = false;
    const csdA = sys.kernel.initCsd(function slow_a(): CpuCode<void> {
      return (function* () {
        aStarted = true;
        yield 1000;
      })();
    }, "a");
    const csdB = sys.kernel.initCsd(recorder(sys, log, "b_fn"), "b");
    program(sys, 0, function* () {
      yield 5000;
      yield* sys.kernel.smpCallFunctionSingleAsync(1, csdA);
      while (!aStarted) yield 50;
      // A's handler has already taken CPU 1's queue: B finds it empty and sends its own IPI.
      yield* sys.kernel.smpCallFunctionSingleAsync(1, csdB);
    });
    expect(sys.run().status).toBe("completed");
    expect(sys.kernel.stats.ipisSingle).toBe(2);
    expect(log).toHaveLength(1);
    expect(log[0]).toMatchObject({ cpu: 1, irqsDisabled: true, hardirq: 1 });
    expect(sys.kernel.stats.flushesIdle).toBe(0);
  });

  it("halt: a call arriving in the polling window between two halts gets need_resched, no IPI, and runs from the idle task", () => {
    const sys = testSystem(2, { idle: "halt" });
    const log: Run[] = [];
    let aRan = false;
    program(sys, 0, function* () {
      yield 5000;
      yield* sys.kernel.smpCallFunctionSingle(1, () => void (aRan = true), null, false);
      while (!aRan) yield 50;
      // The handler has returned; CPU 1 now polls for idlePollWindowNs before it halts again.
      yield 400;
      yield* sys.kernel.smpCallFunctionSingle(1, recorder(sys, log, "b_fn"), "b", true);
    });
    expect(sys.run().status).toBe("completed");
    expect(sys.kernel.stats.ipisSingle).toBe(1);
    expect(sys.kernel.stats.idlePollKicks).toBe(1);
    expect(log[0]).toMatchObject({ cpu: 1, irqsDisabled: true, hardirq: 0 });
    expect(sys.kernel.stats.flushesIdle).toBe(1);
    expect(sys.kernel.stats.flushesIrq).toBe(1);
  });

  it("an architecture without TIF_POLLING_NRFLAG never polls: the call in the polling window of the test above gets an IPI", () => {
    for (const [idlePollingFlag, ipis, kicks] of [
      [true, 1, 1],
      [false, 2, 0],
    ] as const) {
      const sys = testSystem(2, { idle: "halt", arch: { ...generic, idlePollingFlag } });
      let ran = 0;
      program(sys, 0, function* () {
        yield 5000;
        yield* sys.kernel.smpCallFunctionSingle(1, () => void ran++, null, false);
        while (ran === 0) yield 50;
        yield 400;
        yield* sys.kernel.smpCallFunctionSingle(1, () => void ran++, null, true);
      });
      expect(sys.run().status).toBe("completed");
      expect([sys.kernel.stats.ipisSingle, sys.kernel.stats.idlePollKicks, ran]).toEqual([ipis, kicks, 2]);
    }
  });

  it("poll on an architecture without the flag: the idle loop spins, yet every call to it sends an IPI", () => {
    const sys = testSystem(2, { idle: "poll", arch: { ...generic, idlePollingFlag: false } });
    let ran = 0;
    program(sys, 0, function* () {
      for (let i = 0; i < 3; i++) {
        yield 5000;
        yield* sys.kernel.smpCallFunctionSingle(1, () => void ran++, null, true);
      }
    });
    expect(sys.run().status).toBe("completed");
    expect([sys.kernel.stats.ipisSingle, sys.kernel.stats.idlePollKicks, ran]).toEqual([3, 0, 3]);
  });

  it("an idle mode the architecture's kernel lacks is refused: mwait only where the descriptor lists it", () => {
    const noMwait = { ...generic, idleModes: ["halt", "poll"] as const };
    expect(() => testSystem(2, { idle: "mwait", arch: noMwait })).toThrow(
      /backend generic has no idle mode mwait \(its kernel has: halt, poll\); MWAIT idle is x86's/,
    );
    expect(testSystem(2, { idle: "poll", arch: noMwait }).kernel.idleMode).toBe("poll");
    const { idleModes: _, ...undeclared } = generic;
    expect(() => testSystem(2, { idle: "mwait", arch: undeclared })).toThrow(/its kernel has: halt, poll/);
    expect(() => testSystem(2, { arch: { ...generic, idleModes: ["deep"] as never } })).toThrow(
      /idleModes is .*not a non-empty array of halt \| mwait \| poll/,
    );
    expect(() => testSystem(2, { arch: { ...generic, idlePollingFlag: "yes" as never } })).toThrow(
      /idlePollingFlag is .*not a boolean/,
    );
  });

  it("mwait: a call arriving in the polling window before the sleep is run without sleeping (no exit latency paid)", () => {
    // A long MWAIT exit makes a needless sleep visible: mwait_idle_with_hints tests need_resched
    // before MWAIT and does not sleep at all when it is set.
    const sys = testSystem(3, { idle: "mwait", cost: { mwaitExitNs: 50_000 } });
    let aRan = false;
    let bRanAt = -1;
    let sentAt = -1;
    program(sys, 0, function* () {
      yield 5000;
      // A mask send to two CPUs interrupts both (that path has no polling check): CPU 1 then
      // re-enters idle through its polling window.
      yield* sys.kernel.smpCallFunctionMany(
        CpuMask.of(3, [1, 2]),
        (_: unknown, cpu: number) => void (cpu === 1 && (aRan = true)),
        null,
        false,
      );
      while (!aRan) yield 50;
      yield 400; // inside CPU 1's polling window (interrupts off, flag set), before it sleeps again
      sentAt = sys.machine.now;
      yield* sys.kernel.smpCallFunctionSingle(1, () => void (bRanAt = sys.machine.now), null, true);
    });
    expect(sys.run().status).toBe("completed");
    expect(sys.kernel.stats.ipisSingle).toBe(0);
    expect(sys.kernel.stats.idlePollKicks).toBe(1);
    expect(bRanAt - sentAt).toBeLessThan(50_000);
  });

  it("poll and mwait pay their exit cost once per wake-up, by need_resched or by an interrupt", () => {
    // Callback entry time on CPU 1 for a single call (no IPI: need_resched wakes the idle loop,
    // which pays the exit itself) and a mask call (an IPI: the machine charges the exit before
    // the handler runs it), with the mode's exit cost 0 and 5000 ns.
    const entry = (mode: "poll" | "mwait", exitNs: number, viaIpi: boolean): number => {
      const key = mode === "poll" ? "pollExitNs" : "mwaitExitNs";
      const sys = testSystem(3, { idle: mode, cost: { [key]: exitNs } });
      let at = -1;
      const fn = (_: unknown, cpu: number): void => {
        if (cpu === 1) at = sys.machine.now;
      };
      program(sys, 0, function* () {
        yield 5000;
        if (viaIpi) yield* sys.kernel.smpCallFunctionMany(CpuMask.of(3, [1, 2]), fn, null, true);
        else yield* sys.kernel.smpCallFunctionSingle(1, fn, null, true);
      });
      expect(sys.run().status).toBe("completed");
      return at;
    };
    for (const mode of ["poll", "mwait"] as const) {
      expect(entry(mode, 5000, false) - entry(mode, 0, false)).toBe(5000);
      expect(entry(mode, 5000, true) - entry(mode, 0, true)).toBe(5000);
    }
  });

  it("halt: a call arriving while the CPU is halted gets an IPI and runs in its handler", () => {
    const sys = testSystem(2, { idle: "halt" });
    const log: Run[] = [];
    program(sys, 0, function* () {
      yield 5000;
      yield* sys.kernel.smpCallFunctionSingle(1, recorder(sys, log), null, true);
    });
    sys.run();
    expect(sys.kernel.stats.ipisSingle).toBe(1);
    expect(sys.kernel.stats.idlePollKicks).toBe(0);
    expect(log[0]).toMatchObject({ cpu: 1, hardirq: 1 });
  });

  it("mwait: a sleeping CPU keeps polling, so a single call wakes it with need_resched and no IPI", () => {
    const sys = testSystem(2, { idle: "mwait" });
    const log: Run[] = [];
    program(sys, 0, function* () {
      yield 5000;
      yield* sys.kernel.smpCallFunctionSingle(1, recorder(sys, log), null, true);
    });
    expect(sys.run().status).toBe("completed");
    expect(sys.kernel.stats.ipisSingle).toBe(0);
    expect(sys.kernel.stats.idlePollKicks).toBe(1);
    expect(log[0]).toMatchObject({ cpu: 1, hardirq: 0, irqsDisabled: true });
    expect(sys.trace.count("sched_wake_idle_without_ipi")).toBe(1);
  });

  it("mwait polls again after an interrupt woke it: the next single call is need_resched, not an IPI", () => {
    const sys = testSystem(3, { idle: "mwait" });
    let calls = 0;
    program(sys, 0, function* () {
      yield 5000;
      // The mask path has no polling check (6.1): an IPI wakes CPUs 1 and 2 from MWAIT.
      yield* sys.kernel.smpCallFunction(() => void calls++, null, true);
      yield 100_000; // both back asleep, polling again
      yield* sys.kernel.smpCallFunctionSingle(1, () => void calls++, null, true);
    });
    expect(sys.run().status).toBe("completed");
    expect(calls).toBe(3);
    expect([sys.kernel.stats.ipisMask, sys.kernel.stats.ipisSingle, sys.kernel.stats.idlePollKicks]).toEqual([
      1, 0, 1,
    ]);
    expect(sys.machine.cpus[1].polling).toBe(true);
  });

  it("poll: a CPU back from an interrupt answers need_resched as fast as one idle for long (no second exit cost)", () => {
    const latency = (ipiFirst: boolean): number => {
      const sys = testSystem(3, { idle: "poll", cost: { pollExitNs: 5000 } });
      let at = -1;
      let sentAt = -1;
      program(sys, 0, function* () {
        yield 5000;
        if (ipiFirst)
          yield* sys.kernel.smpCallFunctionMany(CpuMask.of(3, [1, 2]), () => undefined, null, true);
        else yield 20_000;
        yield 300;
        sentAt = sys.machine.now;
        yield* sys.kernel.smpCallFunctionSingle(1, () => void (at = sys.machine.now), null, true);
      });
      expect(sys.run().status).toBe("completed");
      return at - sentAt;
    };
    expect(latency(true)).toBe(latency(false));
  });

  it("the idle task clears the polling flag before it flushes: a call arriving during that flush gets an IPI", () => {
    const sys = testSystem(3, { idle: "mwait" });
    const ran: string[] = [];
    program(sys, 0, function* () {
      yield 5000;
      yield* sys.kernel.smpCallFunctionSingle(
        1,
        function slow_cb(): CpuCode<void> {
          return (function* () {
            ran.push("slow");
            yield 10_000;
          })();
        },
        null,
        false,
      );
    });
    program(sys, 2, function* () {
      yield 9000; // CPU 1 is running slow_cb from its idle task's flush
      yield* sys.kernel.smpCallFunctionSingle(1, () => void ran.push("second"), null, true);
    });
    expect(sys.run().status).toBe("completed");
    expect(ran).toEqual(["slow", "second"]);
    expect([sys.kernel.stats.idlePollKicks, sys.kernel.stats.ipisSingle]).toEqual([1, 1]);
  });

  it("mwait clears polling when an interrupt wakes it; poll keeps it set in the handler", () => {
    for (const [mode, pollingInHandler] of [
      ["mwait", false],
      ["poll", true],
    ] as const) {
      const sys = testSystem(3, { idle: mode });
      const seen: boolean[] = [];
      function probe_fn(_: unknown, cpu: number): void {
        seen.push(sys.machine.cpus[cpu].polling);
      }
      program(sys, 0, function* () {
        yield 5000;
        // The mask path has no polling check (6.1): an IPI reaches both.
        yield* sys.kernel.smpCallFunction(probe_fn, null, true);
      });
      expect(sys.run().status).toBe("completed");
      expect(sys.kernel.stats.ipisMask).toBe(1);
      expect(seen).toEqual([pollingInHandler, pollingInHandler]);
    }
  });

  it("the idle loop flushes only when it leaves on need_resched: an interrupt alone does not make it flush", () => {
    const sys = testSystem(2, { idle: "halt" });
    program(sys, 0, function* () {
      yield 5000;
      for (let i = 0; i < 3; i++) {
        yield* sys.kernel.smpSendReschedule(1);
        yield 20_000;
      }
    });
    sys.run();
    // Each reschedule IPI sets need_resched: the loop leaves, finds the queue empty, re-enters.
    expect(sys.machine.cpus[1].counters.irqsTaken).toBe(3);
    expect(sys.kernel.stats.flushesIdle).toBe(0);
  });

  it("wake_up_all_idle_cpus: a reschedule IPI to each halted CPU, need_resched alone to each MWAIT-polling one", () => {
    for (const [idle, ipis] of [
      ["halt", 3],
      ["mwait", 0],
    ] as const) {
      const sys = testSystem(4, { idle });
      program(sys, 0, function* () {
        yield 5000;
        yield* sys.kernel.wakeUpAllIdleCpus();
      });
      expect(sys.run().status).toBe("completed");
      expect(sys.kernel.stats.rescheduleIpis).toBe(ipis);
      expect(sys.machine.cpus[0].preemptCount).toBe(0);
      for (let c = 1; c < 4; c++) expect(sys.machine.cpus[c].needResched).toBe(false);
    }
  });

  it("need_resched stays set while the idle task flushes its queue (do_idle clears it only in schedule_idle), so wake_up_all_idle_cpus sends nothing then", () => {
    for (const memory of ["sc", "tso"] as const) {
      const sys = testSystem(3, { idle: "poll", memory });
      let started = false;
      let seenInCallback = false;
      program(sys, 0, function* () {
        yield 100;
        yield* sys.kernel.smpCallFunctionSingle(
          1,
          function slow(): CpuCode<void> {
            return (function* () {
              started = true;
              seenInCallback = sys.machine.cpus[1].needResched;
              yield 10_000;
            })();
          },
          null,
          false,
        );
        yield 50_000;
      });
      program(sys, 2, function* () {
        while (!started) yield 50;
        yield* sys.kernel.wakeUpAllIdleCpus();
      });
      expect(sys.run().status).toBe("completed");
      expect(sys.kernel.stats.flushesIdle).toBe(1);
      expect(seenInCallback).toBe(true);
      expect(sys.kernel.stats.rescheduleIpis).toBe(0);
      expect(sys.machine.cpus[1].needResched).toBe(false);
    }
  });

  it("wake_up_all_idle_cpus sets need_resched before the reschedule IPI, so a second call while the IPIs are in flight sends none (resched_curr)", () => {
    const sys = testSystem(3, { idle: "halt", archOptions: { latencyNs: 5000 } });
    let setBeforeArrival = false;
    program(sys, 0, function* () {
      yield 5000;
      yield* sys.kernel.wakeUpAllIdleCpus();
      setBeforeArrival = sys.machine.cpus[1].needResched && sys.machine.cpus[1].counters.irqsTaken === 0;
      yield* sys.kernel.wakeUpAllIdleCpus();
    });
    expect(sys.run().status).toBe("completed");
    expect(setBeforeArrival).toBe(true);
    expect(sys.kernel.stats.rescheduleIpis).toBe(2);
    for (const c of [1, 2]) expect(sys.machine.cpus[c].needResched).toBe(false);
  });

  it("rejects an unknown idle mode naming the accepted ones", () => {
    expect(() => testSystem(2, { idle: "deep" as never })).toThrow(/halt.*mwait.*poll/);
  });
});

describe("the idle mode in explorer schedules", () => {
  const cfg = (idle?: IdleMode): ExploreConfig => ({
    scenario: getScenario("seed-2008"),
    policy: getPolicy("naive"),
    arch: generic,
    idle,
    cpus: 2,
    calls: 1,
    strategy: "dfs",
    runs: 1000,
    maxSteps: 20_000,
    seed: 1,
  });

  it("a non-default idle mode is carried in the schedule string and replays under that mode", () => {
    const r = explore(cfg("mwait"));
    const s = r.violation!.schedule;
    expect(s).toMatch(/,idle=mwait,/);
    const d = decodeSchedule(s);
    expect(d.idle).toBe("mwait");
    const run = replay({ ...cfg(d.idle as IdleMode) }, d.choices);
    expect(run.system.kernel.idleMode).toBe("mwait");
    expect(run.violation?.kind).toBe("deadlock");
  });

  it("the default halt mode stays out of the string, and strings without the field decode as before", () => {
    const s = explore(cfg()).violation!.schedule;
    expect(s).not.toMatch(/idle=/);
    expect(decodeSchedule(s).idle).toBeUndefined();
    expect(explore(cfg("halt")).violation!.schedule).toBe(s);
  });
});
