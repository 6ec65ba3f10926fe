import { describe, expect, it } from "@jest/globals";
import {
  CanonicalKeyer,
  explore,
  ReplayChooser,
  renameCpus,
  runScenario,
  StateCache,
  type ExploreConfig,
  type ScenarioContext,
} from "@smpcall/core";
import { dfsConfig } from "./helpers";

function cfg(policy: string, cpus: number, calls: number, preemptionBound: number): ExploreConfig {
  return dfsConfig("seed-2008", policy, cpus, calls, { preemptionBound });
}

/** A cache that never prunes but records every state met at a new choice point. */
class RecordOnly extends StateCache {
  readonly met = new Set<string>();
  /** The same states, keyed canonically under the scenario's symmetry. */
  readonly canonical = new Set<string>();
  override visit(key: string): boolean {
    this.met.add(key);
    return false;
  }
}

/** Every schedule within the preemption bound, no state hashing: the states it meets (as they are, and canonically). */
function uncachedStates(c: ExploreConfig): RecordOnly {
  const cache = new RecordOnly();
  const plain = new CanonicalKeyer("none", c.cpus, cache.words);
  const sym = new CanonicalKeyer(c.scenario.symmetry ?? "none", c.cpus, cache.words);
  let prefix: number[] = [];
  for (;;) {
    let ctx: ScenarioContext | null = null;
    const chooser = new ReplayChooser(
      prefix,
      () => {
        cache.canonical.add(sym.key(ctx!));
        return plain.key(ctx!);
      },
      cache,
      c.preemptionBound,
    );
    runScenario(c, chooser, false, (x) => (ctx = x));
    const ch = chooser.choices,
      opts = chooser.options;
    let i = ch.length - 1;
    while (i >= 0 && ch[i] + 1 >= opts[i]) i--;
    if (i < 0) return cache;
    prefix = [...ch.slice(0, i), ch[i] + 1];
  }
}

describe("dfs state hashing and symmetry under a preemption bound", () => {
  // Pruning a state reached before with a different CPU last to run missed states (e.g. 40 of
  // 1937 for poll-own-queue 3x1 bound 1); a key with only the innermost frame's wait missed 2 of
  // 50 for global-lock 2x1 unbounded (a task spinning for the lock under an interrupt looked
  // like a task not yet started). These cases run in seconds.
  it.each([
    ["poll-own-queue", 2, 1, 2],
    ["global-lock", 2, 1, Infinity],
    ["global-lock", 2, 2, 2],
    ["target-mask", 2, 1, Infinity],
    ["target-mask", 3, 1, 1],
    ["modern", 3, 1, 0],
  ] as const)(
    "%s %d CPUs x %d calls, bound %d: meets every state (and every state up to rotation) the search without hashing meets",
    (policy, cpus, calls, bound) => {
      const c = cfg(policy, cpus, calls, bound);
      const all = uncachedStates(c);
      const plain = explore({ ...c, symmetry: false });
      expect(plain.complete).toBe(true);
      expect(plain.violation).toBeNull();
      expect(plain.distinctStates).toBe(all.met.size);
      const reduced = explore(c);
      expect(reduced.complete).toBe(true);
      expect(reduced.violation).toBeNull();
      expect(reduced.distinctStates).toBe(all.canonical.size);
      // Rotation folds the states of 2 and 3 CPUs into close to 1/2 and 1/3 as many.
      expect(all.canonical.size).toBeLessThan(all.met.size);
      expect(all.canonical.size * cpus).toBeGreaterThanOrEqual(all.met.size);
    },
  );

  it("finds the same violation with and without symmetry (naive deadlocks on 3 CPUs)", () => {
    const c = cfg("naive", 3, 1, 2);
    const a = explore(c);
    const b = explore({ ...c, symmetry: false });
    expect(a.violation?.kind).toBe("deadlock");
    expect(b.violation?.kind).toBe("deadlock");
  });
});

describe("canonical keys", () => {
  it("renames CPU ids in wait descriptions", () => {
    const p = Int32Array.from([2, 0, 1]);
    expect(renameCpus("on-stack csd#17 (call_0_1) queued on CPU 1 by CPU 0", p)).toBe(
      "on-stack csd (call_2_1) queued on CPU 0 by CPU 2",
    );
    expect(renameCpus("the global target mask (CPU 0 or one of 1,2 targeted)", p)).toBe(
      "the global target mask (CPU 2 or one of 0.1 targeted)",
    );
    expect(renameCpus("for CPUs 0-1", p)).toBe("for CPUs 0.2");
  });

  it("permutation symmetry on 5 CPUs sorts CPUs and still names a renaming of the state", () => {
    const c = { ...cfg("global-lock", 5, 1, 2) };
    let ctx: ScenarioContext | null = null;
    runScenario(c, new ReplayChooser([]), false, (x) => (ctx = x));
    const k = new CanonicalKeyer("permutation", 5);
    const key = k.key(ctx!);
    expect([...k.perm].sort()).toEqual([0, 1, 2, 3, 4]);
    // Ending state: every CPU idle and alike, so any renaming gives the same key.
    expect(key).toBe(new CanonicalKeyer("none", 5).key(ctx!));
  });
});
