import { describe, expect, it } from "@jest/globals";
import { descriptor as generic } from "@smpcall/arch-generic";
import {
  explore,
  exploreShard,
  getPolicy,
  getScenario,
  mergeShards,
  splitSearch,
  UsageError,
  type ExploreConfig,
} from "@smpcall/core";

function cfg(policy: string, cpus: number, bound: number): ExploreConfig {
  return {
    scenario: getScenario("seed-2008"),
    policy: getPolicy(policy),
    arch: generic,
    cpus,
    calls: 1,
    strategy: "dfs",
    runs: 1_000_000,
    maxSteps: 20_000,
    seed: 1,
    preemptionBound: bound,
  };
}

function split(c: ExploreConfig, n: number) {
  const subtrees = splitSearch(c);
  return mergeShards(
    Array.from({ length: n }, (_, i) => ({
      name: `s${i}`,
      result: exploreShard(c, i, n, undefined, subtrees),
    })),
  );
}

describe("split dfs search (shards, workers)", () => {
  it("cuts the search into prefixes, none a prefix of another", () => {
    const subtrees = splitSearch(cfg("modern", 2, 0));
    expect(subtrees.length).toBeGreaterThan(1);
    const keys = subtrees.map((p) => p.join("."));
    for (const a of keys) for (const b of keys) if (a !== b) expect(b.startsWith(`${a}.`)).toBe(false);
  });

  it("gives the same verdict and counterexample for 1, 2 and 3 shards", () => {
    const c = cfg("naive", 3, 2);
    const [a, b, d] = [1, 2, 3].map((n) => split(c, n));
    expect(a.violation?.kind).toBe("deadlock");
    expect(b.violation?.schedule).toBe(a.violation?.schedule);
    expect(d.violation?.schedule).toBe(a.violation?.schedule);
    expect(d.complete).toBe(false);
  });

  it("is complete with no violation only when every shard is", () => {
    const c = cfg("global-lock", 2, Infinity);
    const m = split(c, 3);
    expect(m.violation).toBeNull();
    expect(m.complete).toBe(true);
    const r0 = exploreShard(c, 0, 2);
    expect(() => mergeShards([{ name: "a", result: r0 }])).toThrow(UsageError);
    expect(() =>
      mergeShards([
        { name: "a", result: r0 },
        { name: "b", result: r0 },
      ]),
    ).toThrow(/given twice/);
    const other = exploreShard(cfg("global-lock", 3, 0), 1, 2);
    expect(() =>
      mergeShards([
        { name: "a", result: r0 },
        { name: "b", result: other },
      ]),
    ).toThrow(/another search/);
  });

  it("counts the states on its subtrees' roots: one shard meets the single search's states, merged shards bound them", () => {
    for (const c of [cfg("global-lock", 2, 2), cfg("modern", 3, 1), cfg("global-lock", 3, Infinity)]) {
      const single = explore(c).distinctStates!;
      const subtrees = splitSearch(c);
      const one = exploreShard(c, 0, 1, undefined, subtrees);
      expect({ policy: c.policy.name, cpus: c.cpus, states: one.distinctStates }).toEqual({
        policy: c.policy.name,
        cpus: c.cpus,
        states: single,
      });
      for (const n of [2, 3]) {
        const m = split(c, n);
        expect(m.distinctStatesAtLeast).toBeGreaterThan(0);
        expect(m.distinctStatesAtLeast).toBeLessThanOrEqual(single);
        expect(m.distinctStatesAtMost).toBeGreaterThanOrEqual(single);
      }
    }
  });
});
