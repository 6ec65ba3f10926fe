import { describe, expect, it } from "@jest/globals";
import { descriptor as generic } from "@smpcall/arch-generic";
import { runBenchSuite } from "../src/bench-suite";

describe("benchmark suite", () => {
  it("measures every case on a scaled-down run and checks the run really happened", () => {
    const r = runBenchSuite(generic, {}, 0.02);
    expect(r.cases.map((c) => c.name)).toEqual([
      "broadcast/1024",
      "single-storm/64",
      "broadcast-per-target/64",
      "broadcast-per-target/1024",
      "broadcast-per-target/8192",
    ]);
    for (const c of r.cases) {
      expect(c.callbacks).toBeGreaterThan(0);
      expect(c.callbacksPerSec).toBeGreaterThan(0);
    }
    expect(r.cases[4].callbacks).toBe(r.cases[4].ops * 8191); // the first (warm-up) broadcast is not counted
    expect(r.heapMbFor8192Cpus).toBeLessThan(64);
  });
});
