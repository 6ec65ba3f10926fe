import { describe, expect, it } from "@jest/globals";
import { explore, type Scenario } from "@smpcall/core";
import { dfsConfig } from "./helpers";

/**
 * A run that never ends, through a state it meets again: CPU 0 may start two hardware timers
 * that re-arm themselves for ever (a livelock: the machine never quiesces). With two timers
 * pending, every pick is a choice point, and once both CPUs are idle the state repeats: the
 * same key every other timer tick.
 */
const cycle: Scenario = {
  name: "timer-cycle",
  description: "two self-re-arming timers: a run that never ends",
  defaultCpus: 2,
  setup(ctx) {
    const m = ctx.system.machine;
    const tick = (): void => m.schedule(10, tick);
    m.spawn(
      0,
      (function* () {
        yield 10;
        if (m.chooser.chance(0.5, "scenario choice")) {
          tick();
          tick();
        }
        yield 10;
      })(),
    );
    m.spawn(
      1,
      (function* () {
        yield 10;
        yield 10;
      })(),
    );
  },
};

/**
 * A state met again later in a run: with the chance taken, three hardware callbacks that do
 * nothing fire (three events that leave no trace), after which the state is one the run
 * without them met three events earlier. The step limit lets the runs without them finish and
 * not all of those with them.
 */
const later: Scenario = {
  name: "met-later",
  description: "a state met again with less of the step limit left",
  defaultCpus: 2,
  setup(ctx) {
    const m = ctx.system.machine;
    m.spawn(
      0,
      (function* () {
        yield 10;
        if (m.chooser.chance(0.5, "scenario choice"))
          m.schedule(1, () => m.schedule(1, () => m.schedule(1, () => {})));
        for (let i = 0; i < 3; i++) yield 10;
      })(),
    );
    m.spawn(
      1,
      (function* () {
        for (let i = 0; i < 4; i++) yield 10;
      })(),
    );
  },
};

describe("dfs state hashing and the step limit", () => {
  // Before the state table kept the events a state was explored with, the hashed dfs pruned
  // the timers' state where it repeated and said "complete, no violation" (unbounded: 59
  // schedules, 36 states; bound 2: 118 schedules), while the search without hashing reports the
  // step limit on its 11th schedule (unbounded) or 2nd (bound 2).
  it.each([Infinity, 2])(
    "preemption bound %d: a livelock through a repeated state is reported",
    (preemptionBound) => {
      const r = explore({ ...dfsConfig("seed-2008", "modern", 2, 1, { preemptionBound }), scenario: cycle });
      expect(r.violation?.kind).toBe("livelock");
      expect(r.complete).toBe(false);
    },
  );

  // A state met again with more events fired is explored again; one met with fewer is not
  // (whatever would pass the limit from it passed it, and was reported, the first time).
  it.each([
    [15, null],
    [14, "livelock"],
  ])("max steps %d: the hashed search says what the unhashed one says", (maxSteps, kind) => {
    const r = explore({
      ...dfsConfig("seed-2008", "modern", 2, 1, { preemptionBound: Infinity, maxSteps }),
      scenario: later,
    });
    expect(r.violation?.kind ?? null).toBe(kind);
    expect(r.complete).toBe(kind === null);
  });
});
