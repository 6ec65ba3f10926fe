import { describe, expect, it } from "@jest/globals";
import { KeyWords, RandomWalkChooser, runScenario, stateKey, type Scenario } from "@smpcall/core";
import { dfsConfig, itFindsPlantedViolation } from "./helpers";

/**
 * A stop_machine request that no CPU's frames show yet: CPU 0 and CPU 1 both run with
 * interrupts off (so neither can be stopped), and CPU 0 decides, by a choice of the explorer,
 * whether to take CPU 1 down while CPU 1 is still in that region. Until one of them enables
 * interrupts, the states with and without the request differ only in stop_machine's request.
 * The invariant makes CPU 1 going down the violation to find.
 */
const hiddenStop: Scenario = {
  name: "hidden-stop-machine",
  description: "a stop_machine request not yet seen in any CPU's frames",
  defaultCpus: 2,
  setup(ctx) {
    const m = ctx.system.machine;
    const kernel = ctx.system.kernel;
    m.spawn(
      0,
      (function* () {
        m.cpus[0].irqsDisabled = true;
        yield 10;
        if (m.cpus[1].irqsDisabled && m.chooser.chance(0.5, "scenario choice")) kernel.cpuDown(1);
        yield 10;
        yield 10;
        m.cpus[0].irqsDisabled = false;
        yield 10;
      })(),
    );
    m.spawn(
      1,
      (function* () {
        m.cpus[1].irqsDisabled = true;
        for (let i = 0; i < 4; i++) yield 10;
        m.cpus[1].irqsDisabled = false;
      })(),
    );
  },
  invariants: [(ctx) => (ctx.system.machine.cpus[1].online ? null : "CPU 1 went offline")],
};

describe("dfs state hashing and stop_machine's requests", () => {
  // Before the state key held stop_machine's requests, the unbounded hashed dfs pruned every run
  // that made the request at its first choice point (the state of the run that did not) and said
  // "complete, no violation" (42 schedules, 41 states); the search without hashing finds it on
  // its 127th schedule.
  itFindsPlantedViolation(hiddenStop, 2, {
    message: "CPU 1 went offline",
    kind: "invariant",
    bounds: [Infinity, 2],
    runs: 200,
    what: "CPU 1 going down",
  });

  it("the key names the running and waiting requests, with CPU ids renamed", () => {
    const keys: string[] = [];
    const twoDowns: Scenario = {
      name: "two-downs",
      description: "two hotplug requests, the second waiting for the first",
      defaultCpus: 3,
      setup(ctx) {
        const m = ctx.system.machine;
        m.spawn(
          0,
          (function* () {
            m.cpus[0].irqsDisabled = true;
            yield 10;
            keys.push(stateKey(ctx, new KeyWords()));
            ctx.system.kernel.cpuDown(2);
            keys.push(stateKey(ctx, new KeyWords()));
            ctx.system.kernel.cpuDown(1);
            keys.push(stateKey(ctx, new KeyWords()));
            ctx.system.kernel.cpuUp(2);
            keys.push(stateKey(ctx, new KeyWords()));
            const swap = Int32Array.from([0, 2, 1]);
            keys.push(stateKey(ctx, new KeyWords(), swap, "0.2.1"));
            m.cpus[0].irqsDisabled = false;
            yield 10;
          })(),
        );
      },
    };
    const cfg = { ...dfsConfig("seed-2008", "modern", 3, 1), scenario: twoDowns };
    runScenario(cfg, new RandomWalkChooser(1));
    expect(keys).toHaveLength(5);
    expect(new Set(keys.slice(0, 4)).size).toBe(4);
    expect(keys[0]).not.toContain("take_cpu_down");
    expect(keys[3]).toContain(
      "active take_cpu_down of CPU 2 on CPU 2, members CPUs 0,1,2, arrived CPUs none, irqs off 0, left 0; waiting take_cpu_down of CPU 1 on CPU 1; then bring_up of CPU 2;",
    );
    expect(keys[4]).toContain(
      "active take_cpu_down of CPU 1 on CPU 1, members CPUs 0.1.2, arrived CPUs none, irqs off 0, left 0; waiting take_cpu_down of CPU 2 on CPU 2; then bring_up of CPU 1;",
    );
  });
});
