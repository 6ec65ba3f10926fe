import { describe, expect, it } from "@jest/globals";
import {
  CpuMask,
  Kernel2008,
  PolicyRuntime,
  decodeSchedule,
  explore,
  getPolicy,
  replay,
  type CallData2008,
  type ExploreConfig,
} from "@smpcall/core";
import { dfsConfig, testSystem } from "./helpers";

function cfg(
  scenario: string,
  policy: string,
  cpus: number,
  calls: number,
  extra: Partial<ExploreConfig> = {},
): ExploreConfig {
  return dfsConfig(scenario, policy, cpus, calls, { runs: 100_000, ...extra });
}

/** A machine with the 2008 data structures (naive policy's runtime). */
function system2008(cpus: number) {
  const system = testSystem(cpus, { csdLockTimeoutMs: 0 });
  const rt = new PolicyRuntime(system, 0, getPolicy("naive"));
  return { system, rt, k: rt.k08 };
}

describe("the 2008 data structures", () => {
  it("the 2008 patch and the five proposals run on them; modern runs on the modern kernel", () => {
    for (const name of [
      "naive",
      "global-lock",
      "target-mask",
      "percpu-counters",
      "mask-on-alloc-failure",
      "poll-own-queue",
    ]) {
      const rt = new PolicyRuntime(testSystem(2), 1, getPolicy(name));
      expect(rt.kernel2008).toBeInstanceOf(Kernel2008);
    }
    expect(new PolicyRuntime(testSystem(2), 1, getPolicy("modern")).kernel2008).toBeNull();
  });

  it("a many-call goes on the global list with a refs count; the last receiver removes it; it is freed only after a grace period", () => {
    const { system, k } = system2008(4);
    const m = system.machine;
    const ran: number[] = [];
    let data: CallData2008 | null = null;
    const seen: string[] = [];
    m.spawn(
      3,
      (function* () {
        m.localIrqDisable(); // CPU 3 holds off the grace period for 20 us
        yield 20_000;
        m.localIrqEnable();
        yield 0;
      })(),
    );
    m.spawn(
      0,
      (function* () {
        const d = yield* k.queueMany(CpuMask.of(4, [1, 2]), (_i, cpu) => void ran.push(cpu), true);
        data = d;
        seen.push(`queued refs=${d.refs} list=${k.callFunctionList.length}`);
        yield 10_000;
        seen.push(`at 10us refs=${d.refs} list=${k.callFunctionList.length} freed=${d.freed}`);
      })(),
    );
    const out = system.run();
    expect(out.status).toBe("completed");
    expect(ran.sort()).toEqual([1, 2]);
    expect(seen).toEqual(["queued refs=2 list=1", "at 10us refs=0 list=0 freed=false"]);
    expect(data!.freed).toBe(true);
    expect(k.rcu.callbacksRun).toBe(1);
    expect(system.kernel.stats.ipiTargets).toBe(2);
  });

  it("single calls: a per-CPU queue, an IPI only when it was empty; allocated data is freed by the receiver", () => {
    const { system, k } = system2008(2);
    const m = system.machine;
    const got: CallData2008[] = [];
    m.spawn(
      1,
      (function* () {
        m.localIrqDisable();
        yield 5_000;
        m.localIrqEnable();
        yield 0;
      })(),
    );
    m.spawn(
      0,
      (function* () {
        for (let i = 0; i < 3; i++) {
          const d = yield* k.queueSingle(1, () => undefined, true);
          if (typeof d !== "number") got.push(d);
        }
        expect(k.callSingleQueue[1]).toHaveLength(3);
      })(),
    );
    expect(system.run().status).toBe("completed");
    expect(system.kernel.stats.ipiTargets).toBe(1);
    expect(system.kernel.stats.ipisSaved).toBe(2);
    expect(got.map((d) => d.freed)).toEqual([true, true, true]);
  });

  it("allocation failure is the explorer's choice: the search first lets allocations succeed, then finds the deadlock when both fail", () => {
    const c = cfg("seed-2008", "naive", 2, 1, { allocFailRate: 0.5 });
    const r = explore(c);
    expect(r.violation?.kind).toBe("deadlock");
    expect(r.violation!.scheduleNumber).toBeGreaterThan(1);
    expect(replay(c, decodeSchedule(r.violation!.schedule).choices).violation?.message).toBe(
      r.violation!.message,
    );
    expect(explore(cfg("seed-2008", "naive", 2, 1, { allocFailRate: 0 })).violation).toBeNull();
  });

  it("on-stack data on the RCU-walked list: a walker still on the entry after its caller returned (the 2.6.27 quiesce bug)", () => {
    const c = cfg("seed-2008-mask", "global-lock", 3, 1);
    const r = explore(c);
    expect(r.violation?.kind).toBe("problem");
    expect(r.violation!.message).toMatch(
      /CPU \d read on-stack call data \(call_\d_0\) after CPU \d's call returned and its stack frame was reused/,
    );
    expect(replay(c, decodeSchedule(r.violation!.schedule).choices).violation?.message).toBe(
      r.violation!.message,
    );
    // With allocations succeeding nothing is on the stack: freed only after a grace period, no stale read.
    const ok = explore(
      cfg("seed-2008-mask", "naive", 3, 1, { allocFailRate: 0, strategy: "random", runs: 200 }),
    );
    expect(ok.violation).toBeNull();
  });

  it("the naive many-call fallback deadlocks at once: every CPU waits with interrupts off for the others", () => {
    const r = explore(cfg("seed-2008-mask", "naive", 3, 1));
    expect(r.violation).toMatchObject({ kind: "deadlock", scheduleNumber: 1 });
    expect(r.violation!.message).toMatch(
      /spins on on-stack csd#\d+ \(call_\d_0\) on the call_function list for CPUs/,
    );
  });
});
