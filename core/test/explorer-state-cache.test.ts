import { describe, expect, it } from "@jest/globals";
import { descriptor as generic } from "@smpcall/arch-generic";
import {
  explore,
  getPolicy,
  getScenario,
  ReplayChooser,
  runScenario,
  stateKey,
  StateCache,
  type ExploreConfig,
  type ScenarioContext,
} from "@smpcall/core";

function cfg(policy: string, cpus: number, calls: number, preemptionBound: number): ExploreConfig {
  return {
    scenario: getScenario("seed-2008"),
    policy: getPolicy(policy),
    arch: generic,
    cpus,
    calls,
    strategy: "dfs",
    runs: 1_000_000,
    maxSteps: 20_000,
    seed: 1,
    preemptionBound,
  };
}

/** A cache that never prunes but records every state met at a new choice point. */
class RecordOnly extends StateCache {
  readonly met = new Set<string>();
  override visit(key: string): boolean {
    this.met.add(key);
    return false;
  }
}

/** Every schedule within the preemption bound, no state hashing: the states it meets. */
function uncachedStates(c: ExploreConfig): Set<string> {
  const cache = new RecordOnly();
  let prefix: number[] = [];
  for (;;) {
    let ctx: ScenarioContext | null = null;
    const chooser = new ReplayChooser(prefix, () => stateKey(ctx!, cache.words), cache, c.preemptionBound);
    runScenario(c, chooser, false, (x) => (ctx = x));
    const ch = chooser.choices,
      opts = chooser.options;
    let i = ch.length - 1;
    while (i >= 0 && ch[i] + 1 >= opts[i]) i--;
    if (i < 0) return cache.met;
    prefix = [...ch.slice(0, i), ch[i] + 1];
  }
}

describe("dfs state hashing under a preemption bound", () => {
  // Pruning a state reached before with a different CPU last to run missed states here (e.g. 2 of
  // 1142 for poll-own-queue 2x2 bound 2, 40 of 1937 for 3x1 bound 1); these cases run in seconds.
  it.each([
    ["poll-own-queue", 2, 1, 2],
    ["poll-own-queue", 2, 2, 1],
    ["global-lock", 2, 2, 2],
    ["modern", 3, 1, 0],
  ] as const)(
    "%s %d CPUs x %d calls, bound %d: meets every state the search without hashing meets",
    (policy, cpus, calls, bound) => {
      const c = cfg(policy, cpus, calls, bound);
      const all = uncachedStates(c);
      const r = explore(c);
      expect(r.complete).toBe(true);
      expect(r.violation).toBeNull();
      expect(r.distinctStates).toBe(all.size);
    },
  );
});
