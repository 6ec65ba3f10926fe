import { describe, expect, it } from "@jest/globals";
import { explore, getPolicy, runScenario, RandomWalkChooser, type Scenario } from "@smpcall/core";
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
