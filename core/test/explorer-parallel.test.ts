import { describe, expect, it } from "@jest/globals";
import {
  DfsCache,
  explore,
  FingerprintTable,
  finishSharedSearch,
  fingerprint128,
  searchSharedPart,
  sharedSearch,
  splitSearch,
  UsageError,
  type ExploreConfig,
  type SharedPart,
} from "@smpcall/core";
import { dfsConfig } from "./helpers";

function fp(s: string): Int32Array {
  const out = new Int32Array(4);
  fingerprint128(s, out);
  return out;
}

describe("state fingerprints and the fingerprint table", () => {
  it("fingerprints differ for distinct keys (every tail length) and are equal for equal keys", () => {
    const seen = new Set<string>();
    const base = "0|1|0|0|000|t.0.d;1|0|1|0|000;0>1:1,;;3:0:1,3:1:0;";
    for (let i = 0; i < 20_000; i++) {
      const k = base.slice(0, i % base.length) + String(i);
      const f = fp(k);
      expect(f[0] & 1).toBe(1);
      seen.add(f.join(","));
      expect(fp(k).join(",")).toBe(f.join(","));
    }
    expect(seen.size).toBe(20_000);
    // One code unit changed anywhere changes it.
    const f0 = fp(base).join(",");
    for (let i = 0; i < base.length; i++)
      expect(fp(base.slice(0, i) + "#" + base.slice(i + 1)).join(",")).not.toBe(f0);
  });

  it("stores a state once per way of reaching it, with the fewest preemptions used", () => {
    const t = new FingerprintTable({ budgetSlots: 3 });
    const a = fp("a");
    expect(t.visit(a, 1, 2)).toBe(false); // new
    expect(t.visit(a, 1, 2)).toBe(true); // same budget: explored
    expect(t.visit(a, 1, 3)).toBe(true); // less budget left: explored
    expect(t.visit(a, 1, 1)).toBe(false); // more budget left: explore again, and store it
    expect(t.visit(a, 1, 1)).toBe(true);
    expect(t.visit(a, 2, 5)).toBe(false); // another CPU last to run
    expect(t.visit(a, 0, 0)).toBe(false);
    expect(t.size).toBe(1);
    expect(() => t.visit(a, 3, 0)).toThrow(UsageError);
    // Past 254 preemptions nothing is stored: the state is explored again (sound).
    const b = fp("b");
    expect(t.visit(b, 0, 300)).toBe(false);
    expect(t.visit(b, 0, 300)).toBe(false);
  });

  it("keeps the events fired on reaching a state: met with more, it is explored again", () => {
    for (const shared of [false, true]) {
      const t = new FingerprintTable(shared ? FingerprintTable.allocate(3, 4, true) : { budgetSlots: 3 });
      const a = fp("a");
      expect(t.visit(a, 1, 1, 100)).toBe(false); // new
      expect(t.visit(a, 1, 1, 100)).toBe(true);
      expect(t.visit(a, 1, 1, 60)).toBe(true); // fewer events fired: more of the limit left, covered
      expect(t.visit(a, 1, 2, 60)).toBe(true);
      expect(t.visit(a, 1, 1, 101)).toBe(false); // more fired: less of the limit left (or a cycle)
      expect(t.visit(a, 1, 1, 101)).toBe(true);
      expect(t.visit(a, 1, 0, 50)).toBe(false); // fewer preemptions: explored again
      expect(t.visit(a, 1, 0, 50)).toBe(true);
      // Past 2^24 - 2 events nothing is stored: explored again (sound).
      const c = fp("c");
      expect(t.visit(c, 0, 0, 2 ** 24)).toBe(false);
      expect(t.visit(c, 0, 0, 2 ** 24)).toBe(false);
      expect(t.visit(c, 0, 0, 2 ** 24 - 2)).toBe(false);
      expect(t.visit(c, 0, 0, 2 ** 24 - 2)).toBe(true);
    }
  });

  it("grows, keeping every state, and a shared table refuses states past its room", () => {
    const t = new FingerprintTable({ budgetSlots: 1, log2Slots: 4 });
    for (let i = 0; i < 5_000; i++) expect(t.visit(fp(`s${i}`), 0, 0)).toBe(false);
    for (let i = 0; i < 5_000; i++) expect(t.visit(fp(`s${i}`), 0, 0)).toBe(true);
    expect(t.size).toBe(5_000);
    const buf = FingerprintTable.allocate(1, 4, true);
    const a = new FingerprintTable(buf);
    const b = new FingerprintTable(buf); // a second view, as another worker has
    for (let i = 0; i < 12; i++) expect((i % 2 ? a : b).visit(fp(`s${i}`), 0, 0)).toBe(false);
    expect(a.visit(fp("s3"), 0, 0)).toBe(true);
    expect(b.visit(fp("s4"), 0, 0)).toBe(true);
    expect(b.size).toBe(12);
    expect(() => a.visit(fp("s12"), 0, 0)).toThrow(/state table full: 12 states.*--max-states/);
  });
});

/**
 * A shared search by `workers` workers, interleaved in this thread one subtree at a time (each
 * worker its own cache and system, one shared table), then finished as the CLI does.
 */
function interleaved(c: ExploreConfig, workers: number) {
  const shared = sharedSearch(c, 1 << 16);
  const subtrees = splitSearch(c);
  const caches = Array.from({ length: workers }, () => new DfsCache(c, new FingerprintTable(shared.table)));
  const parts: SharedPart[] = caches.map(() => ({
    schedules: 0,
    subtreesDone: 0,
    ipisPerCallSum: 0,
    serialisedNsSum: 0,
    counted: 0,
  }));
  for (let live = true; live;) {
    live = false;
    caches.forEach((cache, w) => {
      const p = searchSharedPart(c, shared, subtrees, 1, cache);
      if (p.schedules > 0) live = true;
      parts[w] = {
        schedules: parts[w].schedules + p.schedules,
        subtreesDone: parts[w].subtreesDone + p.subtreesDone,
        ipisPerCallSum: parts[w].ipisPerCallSum + p.ipisPerCallSum,
        serialisedNsSum: parts[w].serialisedNsSum + p.serialisedNsSum,
        counted: parts[w].counted + p.counted,
      };
    });
  }
  return { result: finishSharedSearch(c, shared, parts, subtrees.length, 0), parts };
}

describe("a dfs search shared by workers (--workers N)", () => {
  it.each([
    ["poll-own-queue", 3, 1, Infinity],
    ["global-lock", 2, 2, 2],
    ["target-mask", 3, 1, 1],
  ] as const)(
    "%s %d CPUs x %d calls, bound %d: meets exactly the states of the single search, for 1, 2 and 3 workers",
    (policy, cpus, calls, bound) => {
      const c = dfsConfig("seed-2008", policy, cpus, calls, { preemptionBound: bound });
      const single = explore(c);
      expect(single.complete).toBe(true);
      for (const n of [1, 2, 3]) {
        const { result, parts } = interleaved(c, n);
        expect(result.violation).toBeNull();
        expect(result.complete).toBe(true);
        expect(result.distinctStates).toBe(single.distinctStates);
        // Every worker took subtrees, and sharing the table keeps the total near one search's
        // plus a run per subtree (without it each worker ran about as many schedules as the
        // whole search).
        for (const p of parts) expect(p.subtreesDone).toBeGreaterThan(0);
        expect(result.schedules).toBeLessThan(single.schedules * 1.2 + splitSearch(c).length);
      }
    },
  );

  it("reports the single search's counterexample whatever the number of workers", () => {
    const c = dfsConfig("seed-2008", "naive", 3, 1, { preemptionBound: 2 });
    const single = explore(c);
    expect(single.violation?.kind).toBe("deadlock");
    for (const n of [1, 2, 3]) {
      const { result } = interleaved(c, n);
      expect(result.complete).toBe(false);
      expect(result.violation?.schedule).toBe(single.violation?.schedule);
      expect(result.violation?.message).toBe(single.violation?.message);
    }
  });

  it("is not complete when the schedule limit stops it", () => {
    const c = dfsConfig("seed-2008", "poll-own-queue", 3, 1, { preemptionBound: Infinity, runs: 500 });
    const { result } = interleaved(c, 2);
    expect(result.complete).toBe(false);
    expect(result.violation).toBeNull();
    expect(result.schedules).toBeGreaterThanOrEqual(500);
    expect(result.schedules).toBeLessThan(520);
  });
});
