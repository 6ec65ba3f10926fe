import { describe, expect, it } from "@jest/globals";
import { descriptor as generic } from "@smpcall/arch-generic";
import { BENCH_TARGETS, judgeBench, runBenchSuite } from "../src/bench-suite";

describe("benchmark suite", () => {
  it("measures every case on a scaled-down run and checks the run really happened (not judged: its figures are not comparable)", () => {
    const r = runBenchSuite(generic, {}, 0.02);
    expect(r.judged).toBe(false);
    expect(Object.values(r.met)).toEqual([null, null, null, null, null]);
    expect(r.targets).toEqual(BENCH_TARGETS);
    // What a full run's judgement does with figures, checked on these.
    const met = judgeBench(r);
    expect(r.cases.map((c) => c.name)).toEqual([
      "broadcast/1024",
      "floor/1024",
      "single-storm/64",
      "broadcast-per-target/64",
      "broadcast-per-target/1024",
      "broadcast-per-target/8192",
    ]);
    for (const c of r.cases) {
      expect(c.callbacks).toBeGreaterThan(0);
      expect(c.callbacksPerSec).toBeGreaterThan(0);
    }
    const perTarget8192 = r.cases.find((c) => c.name === "broadcast-per-target/8192")!;
    const perTarget64 = r.cases.find((c) => c.name === "broadcast-per-target/64")!;
    // per-target cases also report CPU time, and the ratio target is judged on it
    for (const c of [perTarget64, perTarget8192]) expect(c.cpuNsPerCallback).toBeGreaterThan(0);
    expect(r.perTargetCostRatio8192vs64Cpu).toBeCloseTo(
      perTarget8192.cpuNsPerCallback! / perTarget64.cpuNsPerCallback!,
      1,
    );
    expect(met.perTargetRatio).toBe(r.perTargetCostRatio8192vs64Cpu <= r.targets.perTargetRatioMax);
    expect(r.cases[0].cpuNsPerCallback).toBeUndefined();
    expect(perTarget8192.callbacks).toBe(perTarget8192.ops * 8191); // the first (warm-up) broadcast is not counted
    // the floor runs the same broadcasts: every CPU but the sender runs each one
    expect(r.cases[1].callbacks).toBe(r.cases[1].ops * 1023);
    expect(r.broadcast1024VsFloor).toBeCloseTo(r.cases[0].callbacksPerSec / r.cases[1].callbacksPerSec, 2);
    expect(met.broadcast1024VsFloor).toBe(r.broadcast1024VsFloor >= r.targets.broadcast1024VsFloorMin);
    // a traced 8192-CPU run in a process of its own: a real trace file, a real peak
    expect(r.traceMemory.command).toMatch(
      /^smpcall run --arch generic --cpus 8192 --workload broadcast --ops 6 --trace big\.json$/,
    );
    expect(r.traceMemory.traceFileMb).toBeGreaterThan(1);
    expect(r.traceMemory.peakRssMb).toBeGreaterThan(20);
    expect(met.traceMemory).toBe(r.traceMemory.peakRssMb <= 256);
    expect(met.broadcast1024).toBe(r.cases[0].callbacksPerSec >= 1_000_000);
    expect(met.heap).toBe(r.heapMbFor8192Cpus <= 64);
    expect(judgeBench({ ...r, heapMbFor8192Cpus: 64.1 }).heap).toBe(false);
    expect(r.heapMbFor8192Cpus).toBeLessThan(64);
  });
});
