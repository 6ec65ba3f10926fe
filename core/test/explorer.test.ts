import { describe, expect, it } from "@jest/globals";
import { descriptor as generic } from "@smpcall/arch-generic";
import {
  decodeSchedule,
  explore,
  getPolicy,
  getScenario,
  replay,
  type CallPolicy,
  type ExploreConfig,
  type ExploreStrategy,
} from "@smpcall/core";

function cfg(
  scenario: string,
  policy: string | CallPolicy,
  cpus: number,
  calls: number,
  strategy: ExploreStrategy = "dfs",
  runs = 100_000,
): ExploreConfig {
  return {
    scenario: getScenario(scenario),
    policy: typeof policy === "string" ? getPolicy(policy) : policy,
    arch: generic,
    cpus,
    calls,
    strategy,
    runs,
    maxSteps: 20_000,
    seed: 1,
  };
}

describe("schedule explorer and the 2008 policies", () => {
  it("finds the naive deadlock on 2 CPUs at once, with the cycle, irq state and a replay string", () => {
    const r = explore(cfg("seed-2008", "naive", 2, 1));
    expect(r.ms).toBeLessThan(1000);
    expect(r.violation).toMatchObject({ kind: "deadlock", scheduleNumber: 1 });
    const d = r.violation!.deadlock!;
    expect(d.cycle).toEqual([0, 1]);
    expect(d.cpus.map((c) => [c.cpu, c.holder, c.irqsDisabled])).toEqual([
      [0, 1, true],
      [1, 0, true],
    ]);
    expect(decodeSchedule(r.violation!.schedule)).toMatchObject({
      scenario: "seed-2008",
      policy: "naive",
      cpus: 2,
      calls: 1,
    });
  });

  it.each(["random", "pct"] as const)("the %s strategy finds it too", (strategy) => {
    expect(explore(cfg("seed-2008", "naive", 3, 1, strategy, 20)).violation?.kind).toBe("deadlock");
  });

  it.each([
    [2, 1],
    [2, 2],
    [3, 1],
  ])(
    "poll-own-queue: the exhaustive search on %d CPUs x %d calls is complete and finds none",
    (cpus, calls) => {
      const r = explore(cfg("seed-2008", "poll-own-queue", cpus, calls));
      expect(r.violation).toBeNull();
      expect(r.complete).toBe(true);
      expect(r.distinctStates).toBeGreaterThan(10);
    },
  );

  it.each(["global-lock", "target-mask", "percpu-counters", "mask-on-alloc-failure"])(
    "%s avoids the deadlock (complete search, 2 CPUs x 2 calls) and reports serialisation",
    (policy) => {
      const r = explore(cfg("seed-2008", policy, 2, 2));
      expect(r.violation).toBeNull();
      expect(r.complete).toBe(true);
      expect(r.serialisedNs).toBeGreaterThan(0);
    },
  );

  it("modern: one no-wait call each is fine; a second one deadlocks reusing the per-CPU csd with interrupts off", () => {
    expect(explore(cfg("seed-2008", "modern", 2, 1)).violation).toBeNull();
    const r = explore(cfg("seed-2008", "modern", 2, 2));
    expect(r.violation?.kind).toBe("deadlock");
    expect(r.violation!.message).toMatch(/csd#\d+ \(call_\d_0\)/);
  });

  it("rcu-stall: a caller spinning with interrupts off holds up the grace period its own call waits for", () => {
    const r = explore(cfg("rcu-stall", "naive", 2, 1));
    expect(r.violation?.kind).toBe("deadlock");
    expect(r.violation!.message).toMatch(/RCU grace period held up by CPU 0/);
    expect(r.violation!.deadlock!.cycle).toEqual([0, 1]);
    expect(explore(cfg("rcu-stall", "modern", 2, 1)).violation).toBeNull();
  });

  it("replay reproduces a violation exactly, from its schedule string", () => {
    for (const [s, p, cpus, calls, strat] of [
      ["seed-2008", "naive", 2, 1, "dfs"],
      ["seed-2008", "modern", 3, 2, "pct"],
    ] as const) {
      const c = cfg(s, p, cpus, calls, strat, 50);
      const found = explore(c).violation!;
      const again = replay(c, decodeSchedule(found.schedule).choices);
      expect(again.violation?.message).toBe(found.message);
    }
  });

  it("a policy that loses calls is caught as a lost call", () => {
    const losing: CallPolicy = {
      name: "loses",
      description: "drops every call",
      *call() {
        yield 10;
        return 0;
      },
    };
    const r = explore(cfg("seed-2008", losing, 2, 1, "random", 3));
    expect(r.violation).toMatchObject({ kind: "lost-call" });
    expect(r.violation!.message).toMatch(/call 0\.0 lost: its callback never ran on CPU 1/);
  });

  it("bad schedule strings are usage errors", () => {
    expect(() => decodeSchedule("x")).toThrow(
      /bad schedule at character 1: expected a string starting "smp2,"/,
    );
    expect(() => replay(cfg("seed-2008", "naive", 2, 1), [9, 9, 9])).toThrow(/only \d+ options exist/);
  });
});
