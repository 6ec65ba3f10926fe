import { describe } from "@jest/globals";
import type { Scenario } from "@smpcall/core";
import { itFindsPlantedViolation } from "./helpers";

/**
 * Two paths through a program that take steps of the same count and sum in another order, to
 * two different places: CPU 0 takes 10 then 20 ns, or 20 then 10 (a choice, as the kernel's
 * code pays an IPI's cost in one call or in another), and only on the first path then sets
 * shared word `x` to 1 for a step; CPU 1 reports a problem if it reads 1.
 */
const swapped: Scenario = {
  name: "swapped-steps",
  description: "steps of the same count and sum in another order, at another place",
  defaultCpus: 2,
  setup(ctx) {
    const m = ctx.system.machine;
    const mem = ctx.system.kernel.memory;
    m.spawn(
      0,
      (function* () {
        yield 10;
        const first = m.chooser.chance(0.5, "scenario choice");
        if (first) {
          yield 10;
          yield 20;
        } else {
          yield 20;
          yield 10;
        }
        if (first) mem.store("x", 1);
        yield 10;
        mem.store("x", 0);
        yield 10;
      })(),
    );
    m.spawn(
      1,
      (function* () {
        for (let i = 0; i < 8; i++) {
          yield 10;
          if (mem.load("x") === 1)
            m.reportProblem({ kind: "invariant", time: m.now, cpu: 1, message: "CPU 1 saw x = 1" });
        }
      })(),
    );
  },
};

describe("the frame tracker keys the order of a program's steps", () => {
  // Before, a frame was keyed by its steps' count and sum only: the dfs met the path 10, 10, 20
  // at the key of the path 10, 20, 10 (explored first) and pruned it there, before its store,
  // wherever CPU 1 was still running: "search complete, no violation".
  itFindsPlantedViolation(swapped, 2, {
    message: "CPU 1 saw x = 1",
    bounds: [Infinity, 2],
    runs: 100,
    what: "the report",
  });
});
