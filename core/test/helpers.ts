import { expect, it } from "@jest/globals";
import { descriptor as generic } from "@smpcall/arch-generic";
import {
  createSmpSystem,
  explore,
  getPolicy,
  getScenario,
  type ExploreConfig,
  type Scenario,
  type SmpCallFunc,
  type SmpSystem,
  type SystemConfig,
} from "@smpcall/core";
import { spawnProgram } from "@smpcall/core/testing";
export {
  callbackRecorder as recorder,
  spawnProgram as program,
  type CallbackRun as Run,
} from "@smpcall/core/testing";

/**
 * Events a test system's `run()` may dispatch unless the test passes its own `maxEvents`: a kernel
 * change that livelocks fails its tests within about a second with a step-limit problem, instead
 * of hanging the test worker (and a StrykerJS mutant that livelocks is killed, not timed out).
 */
export const TEST_MAX_EVENTS = 2_000_000;

/** A generic-backend system for tests (trace on, jitter-free unless asked; runs under {@link TEST_MAX_EVENTS}). */
export function testSystem(cpus: number, extra: Partial<SystemConfig> = {}): SmpSystem {
  const sys = createSmpSystem({
    cpus,
    seed: 1,
    arch: generic,
    trace: true,
    ...extra,
    cost: { deliveryJitter: 0, ...extra.cost },
  });
  const run = sys.run.bind(sys);
  sys.run = (options = {}) => run({ maxEvents: TEST_MAX_EVENTS, ...options });
  return sys;
}

/** An exhaustive (dfs) explorer configuration on the generic backend, as the explorer tests use it. */
export function dfsConfig(
  scenario: string,
  policy: string,
  cpus: number,
  calls: number,
  extra: Partial<ExploreConfig> = {},
): ExploreConfig {
  return {
    scenario: getScenario(scenario),
    policy: getPolicy(policy),
    arch: generic,
    cpus,
    calls,
    strategy: "dfs",
    runs: 1_000_000,
    maxSteps: 20_000,
    seed: 1,
    ...extra,
  };
}

/** CPU `cpu` keeps interrupts off for `ns` (IPIs to it wait), then turns them on and runs on briefly. */
export function irqsOffFor(sys: SmpSystem, cpu: number, ns: number): void {
  spawnProgram(sys, cpu, function* () {
    sys.machine.localIrqDisable();
    yield ns;
    sys.machine.localIrqEnable();
    yield 10;
  });
}

/**
 * A call whose IPI reaches CPU 2 after it left the online mask: CPU 2 keeps interrupts off for
 * 20 µs, CPU 0 sends it a no-wait single call of `callback` and then takes it out of the online
 * mask by hand (the window before its dying step). The flush then warns "IPI on offline CPU 2".
 */
export function ipiAfterOffline(sys: SmpSystem, callback: SmpCallFunc = function late_cb() {}): void {
  irqsOffFor(sys, 2, 20_000);
  spawnProgram(sys, 0, function* () {
    yield 100;
    yield* sys.kernel.smpCallFunctionSingle(2, callback, null, false);
    sys.machine.cpus[2].online = false;
    sys.machine.onlineMask.clear(2);
  });
}

/**
 * Tests (inside a describe) that a violation planted in `scenario` (on the generic backend,
 * seed-2008's modern policy, `cpus` CPUs x 1 call) is found by the hashed dfs at each of `bounds`,
 * which then does not claim completeness, and by a random walk of `runs` schedules: it is reachable,
 * so a hashed search that said "complete, no violation" would have pruned it wrongly. `kind`: the
 * violation's kind, when the test pins it.
 */
export function itFindsPlantedViolation(
  scenario: Scenario,
  cpus: number,
  planted: { message: string; kind?: string; bounds: number[]; runs: number; what: string },
): void {
  it.each(planted.bounds)(
    `preemption bound %d: the hashed search finds ${planted.what}`,
    (preemptionBound) => {
      const r = explore({ ...dfsConfig("seed-2008", "modern", cpus, 1, { preemptionBound }), scenario });
      if (planted.kind !== undefined) expect(r.violation?.kind).toBe(planted.kind);
      expect(r.violation?.message).toBe(planted.message);
      expect(r.complete).toBe(false);
    },
  );

  it("a random walk finds it too (it is reachable)", () => {
    const cfg = {
      ...dfsConfig("seed-2008", "modern", cpus, 1),
      scenario,
      strategy: "random" as const,
      runs: planted.runs,
    };
    expect(explore(cfg).violation?.message).toBe(planted.message);
  });
}
