import { describe } from "@jest/globals";
import type { Scenario } from "@smpcall/core";
import { itFindsPlantedViolation } from "./helpers";

/**
 * A problem reported in the middle of a run (as the memory layer reports a stale read, or a
 * backend or scenario calls `reportProblem`), after which the run converges with a clean run:
 * CPU 0 sets shared word `x` to 1 for a while and puts it back; CPU 1 reads it once and reports
 * a problem if it sees 1; CPU 2 runs on, so choice points follow the convergence. The dfs order
 * meets the clean interleavings first (CPU 1 reads at t = 5, before CPU 0's store at t = 10).
 */
const midRunProblem: Scenario = {
  name: "mid-run-problem",
  description: "a problem reported mid-run, then the state of a clean run",
  defaultCpus: 3,
  setup(ctx) {
    const m = ctx.system.machine;
    const mem = ctx.system.kernel.memory;
    m.spawn(
      0,
      (function* () {
        yield 10;
        mem.store("x", 1);
        yield 10;
        mem.store("x", 0);
        yield 10;
      })(),
    );
    m.spawn(
      1,
      (function* () {
        yield 5;
        if (mem.load("x") === 1)
          m.reportProblem({ kind: "invariant", time: m.now, cpu: 1, message: "CPU 1 saw x = 1" });
        yield 5;
      })(),
    );
    m.spawn(
      2,
      (function* () {
        for (let i = 0; i < 4; i++) yield 10;
      })(),
    );
  },
};

describe("dfs state hashing and problems reported mid-run", () => {
  // Before the state key held "a problem was reported", the unbounded hashed dfs pruned every run that
  // saw x = 1 where it reached a state a clean run had met, and said "complete, no violation"
  // (315 schedules, 194 states, unbounded), while the search without hashing finds the problem
  // on 150,150 of its 630,630 schedules and a random walk on its 6th.
  itFindsPlantedViolation(midRunProblem, 3, {
    message: "CPU 1 saw x = 1",
    kind: "problem",
    bounds: [Infinity, 2, 1],
    runs: 200,
    what: "the problem",
  });
});
