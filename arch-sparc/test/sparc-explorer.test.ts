import { describe, expect, it } from "@jest/globals";
import {
  DEFAULT_FAULT_BOUND,
  ReplayChooser,
  decodeSchedule,
  encodeSchedule,
  explore,
  getPolicy,
  getScenario,
  replay,
  runEnd,
  runScenario,
  RandomWalkChooser,
  scheduleFaultBound,
  scheduleString,
  type ExploreConfig,
  type Scenario,
} from "@smpcall/core";
import { descriptor } from "@smpcall/arch-sparc";

/**
 * Every sun4v try finds the target not taking traps (`wouldBlockRate` 1: HV_EWOULDBLOCK, a
 * choice the explorer cannot turn around), and CPU 0 makes a synchronous call to CPU 2: the
 * retries make no progress until the mondo timeout, a kernel panic. (A time-bound trap stall
 * would not do: the explorer's choosers may take the stall's end before the retries.)
 */
const mondoTimeout: Scenario = {
  name: "sparc-mondo-timeout",
  description: "a synchronous call to a CPU that never takes its mondo",
  defaultCpus: 4,
  setup({ system, policy, runtime, ledger }) {
    const m = system.machine;
    m.spawn(
      0,
      (function* () {
        ledger.issue("0.0", [2]);
        yield* policy.call(runtime, 2, ledger.callback("0.0"), true);
      })(),
    );
  },
};

const cfg = {
  scenario: mondoTimeout,
  policy: getPolicy("modern"),
  arch: descriptor,
  archOptions: { wouldBlockRate: "1", retryLimit: "5" },
  cpus: 4,
  calls: 1,
  strategy: "random" as const,
  runs: 3,
  maxSteps: 100_000,
  seed: 1,
};

describe("the explorer and a sparc64 kernel panic", () => {
  it("a run that ends in a mondo-timeout panic is a violation of kind panic, not a lost call", () => {
    const run = runScenario(cfg, new RandomWalkChooser(1));
    expect(run.outcome.status).toBe("panic");
    // The call left queued is reported by the kernel, yet the verdict is the panic.
    expect(run.outcome.problems.map((p) => p.kind)).toEqual(["panic", "lost-call"]);
    expect(run.violation?.kind).toBe("panic");
    expect(run.violation?.message).toMatch(
      /^CPU\[0\]: SUN4V mondo timeout, cpu\(2\) made no forward progress .*; .*left queued when the kernel panicked/,
    );
  });

  it("explore reports it on the first schedule with a schedule that replays it", () => {
    const r = explore(cfg);
    expect(r.violation?.kind).toBe("panic");
    expect(r.violation?.scheduleNumber).toBe(1);
    expect(r.violation?.schedule).toMatch(/^smp2,/);
  });
});

/**
 * Injected faults under dfs: every would-block retry is a fault choice, so without a bound the
 * dfs follows ever longer fault chains (each retry a new state) and reports a "livelock" that is
 * an endless run of injected faults, a run of probability zero. The fault bound (default 3)
 * forces "no fault" once a schedule has taken that many.
 */
describe("the explorer's fault bound (sparc would-block under dfs)", () => {
  const faulty = (archOptions: Record<string, string>, more: Partial<ExploreConfig> = {}): ExploreConfig => ({
    scenario: getScenario("seed-2008"),
    policy: getPolicy("modern"),
    arch: descriptor,
    archOptions,
    cpus: 2,
    calls: 1,
    strategy: "dfs",
    runs: 1_000_000,
    maxSteps: 500,
    seed: 1,
    ...more,
  });

  it("unbounded (the old behaviour), dfs reports an endless run of injected would-blocks as a livelock", () => {
    const r = explore(faulty({ wouldBlockRate: "0.5" }, { faultBound: Infinity, runs: 2000 }));
    expect(r.faultBound).toBeNull();
    expect(r.violation?.kind).toBe("livelock");
    // Nearly every choice is "fault" (1): 124 would-blocks in 143 choices, until the step limit.
    const choices = decodeSchedule(r.violation!.schedule).choices;
    expect(choices.filter((c) => c === 1).length).toBeGreaterThan(120);
    expect(choices.filter((c) => c === 1).length).toBeGreaterThan(0.85 * choices.length);
    expect(r.violation!.schedule).not.toContain("fault-bound=");
  });

  it("with the default bound the same search finishes: complete, no violation, the bound in the result", () => {
    const r = explore(faulty({ wouldBlockRate: "0.5" }));
    expect(DEFAULT_FAULT_BOUND).toBe(3);
    expect(r).toMatchObject({ faultBound: 3, complete: true, violation: null, distinctStates: 3137 });
    // Each unit of bound adds the schedules with one more fault.
    const states = [0, 1, 2].map((b) => explore(faulty({ wouldBlockRate: "0.5" }, { faultBound: b })));
    expect(states.map((x) => [x.complete, x.distinctStates])).toEqual([
      [true, 298],
      [true, 913],
      [true, 1861],
    ]);
  });

  it("a real violation that needs injected faults is still found within the bound, and its schedule replays to its end", () => {
    // retryLimit 1: the third would-block in a row without progress is a mondo timeout (a panic).
    const cfg = faulty({ wouldBlockRate: "0.5", retryLimit: "1" });
    const r = explore(cfg);
    expect(r.violation?.kind).toBe("panic");
    expect(r.violation?.faults).toBe(3);
    const s = decodeSchedule(r.violation!.schedule);
    expect(s.faultBound).toBe(3);
    expect(s.end).toMatch(/^panic\./);
    const run = replay({ ...cfg, faultBound: s.faultBound }, s.choices, false, s.end);
    expect(runEnd(run)).toBe(s.end);
    // Below what it needs, the bound hides it: "none within the bound", not "none".
    const under = explore({ ...cfg, faultBound: 2 });
    expect(under).toMatchObject({ faultBound: 2, complete: true, violation: null });
  });

  it("a forced 'no fault' is recorded as a choice: the schedule replays with and without its bound, and a 1 there is refused", () => {
    const cfg = faulty({ wouldBlockRate: "0.5", retryLimit: "1" });
    // Take the panic's prefix up to its first fault (its last three choices are the three
    // would-blocks), then no more faults than a bound of 1 allows.
    const panic = decodeSchedule(explore(cfg).violation!.schedule).choices;
    const prefix = panic.slice(0, panic.length - 2);
    const forced: number[] = [];
    const chooser = new (class extends ReplayChooser {
      protected override forcedNoFault(index: number): void {
        forced.push(index);
      }
    })(prefix, undefined, undefined, 2, undefined, 0, 1);
    const run = runScenario({ ...cfg, faultBound: 1 }, chooser);
    expect(chooser.faultsUsed).toBe(1);
    expect(chooser.faultChoices).toBeGreaterThan(1); // forced ones after the first fault
    expect(forced.length).toBeGreaterThan(0);
    const forcedAt = forced[0];
    expect([chooser.choices[forcedAt], chooser.options[forcedAt]]).toEqual([0, 1]);
    const end = runEnd(run);
    const text = scheduleString(
      cfg,
      chooser.choices,
      end,
      scheduleFaultBound({ ...cfg, faultBound: 1 }, chooser.faultChoices),
    );
    const s = decodeSchedule(text);
    expect(s.faultBound).toBe(1);
    expect(runEnd(replay({ ...cfg, faultBound: 1 }, s.choices, false, s.end))).toBe(end);
    expect(runEnd(replay(cfg, s.choices, false, s.end))).toBe(end); // unbounded: the 0 is read as a choice
    const altered = [...s.choices];
    altered[forcedAt] = 1;
    expect(() => replay({ ...cfg, faultBound: 1 }, altered)).toThrow(
      /choice \d+ is 1, an injected fault, but the run has taken the 1 its fault bound allows/,
    );
  });

  it("schedules: fault-bound round-trips; a string without it (every older schedule) decodes as unbounded", () => {
    const base = {
      scenario: "seed-2008",
      policy: "modern",
      arch: "sparc",
      archOptions: { wouldBlockRate: "0.5" },
      cpus: 2,
      calls: 1,
      seed: 1,
      allocFailRate: 1,
      maxSteps: 500,
      choices: [0, 1, 0],
    };
    const text = encodeSchedule({ ...base, faultBound: 3, end: "done.100.0" });
    expect(text).toContain(",max-steps=500,fault-bound=3,end=done.100.0,");
    expect(decodeSchedule(text).faultBound).toBe(3);
    expect(decodeSchedule(encodeSchedule(base)).faultBound).toBeUndefined();
    // A schedule string as explore wrote it before the field existed.
    expect(
      decodeSchedule(
        "smp2,scenario=seed-2008,policy=naive,arch=generic,cpus=2,calls=1,seed=1,end=deadlock.1140.i1sjww,n=7,choices=0.0.0.1.0.0.0,sum=1x2thcm",
      ).faultBound,
    ).toBeUndefined();
  });
});
