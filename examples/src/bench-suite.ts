import "reflect-metadata";
import { createSmpSystem, runWorkload, type ArchDescriptor, type RawArchOptions } from "@smpcall/core";

/** One benchmark measurement. */
export interface BenchCase {
  name: string;
  cpus: number;
  ops: number;
  callbacks: number;
  wallMs: number;
  callbacksPerSec: number;
  /** Wall-clock ns per executed callback (the per-target cost of a broadcast). */
  nsPerCallback: number;
}

/** What `npm run bench` prints. */
export interface BenchResult {
  arch: string;
  archOptions: RawArchOptions;
  node: string;
  cases: BenchCase[];
  perTargetCostRatio8192vs64: number;
  heapMbFor8192Cpus: number;
  targets: { broadcast1024CallbacksPerSec: number; perTargetRatioMax: number; heapMbMax: number };
  met: { broadcast1024: boolean; perTargetRatio: boolean; heap: boolean };
}

function timeCase(name: string, arch: ArchDescriptor, archOptions: RawArchOptions, workload: string, cpus: number, ops: number): BenchCase {
  // One warm-up run on a small machine so the JIT has seen the hot paths.
  runWorkload({ cpus: Math.min(cpus, 64), seed: 7, arch, archOptions, workload, ops: Math.min(ops, 64), csdLockTimeoutMs: 0 });
  const t0 = process.hrtime.bigint();
  const { report } = runWorkload({ cpus, seed: 1, arch, archOptions, workload, ops, csdLockTimeoutMs: 0 });
  const wallNs = Number(process.hrtime.bigint() - t0);
  if (report.problems.length > 0) throw new Error(`bench ${name}: the run reported problems: ${report.problems.map((p) => p.message).join("; ")}`);
  const callbacks = report.counts.callbacksRun;
  return { name, cpus, ops, callbacks, wallMs: Math.round(wallNs / 1e4) / 100, callbacksPerSec: Math.round(callbacks / (wallNs / 1e9)), nsPerCallback: Math.round(wallNs / callbacks) };
}

function heapMb(): number {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().heapUsed / (1024 * 1024);
}

/** Run the benchmark suite. `scale` < 1 shrinks the op counts (for quick checks in tests). */
export function runBenchSuite(arch: ArchDescriptor, archOptions: RawArchOptions = {}, scale = 1): BenchResult {
  const s = (n: number) => Math.max(1, Math.round(n * scale));
  const cases = [
    timeCase("broadcast/1024", arch, archOptions, "broadcast", 1024, s(400)),
    timeCase("single-storm/64", arch, archOptions, "single-storm", 64, s(200_000)),
    timeCase("broadcast-per-target/64", arch, archOptions, "broadcast", 64, s(6400)),
    timeCase("broadcast-per-target/1024", arch, archOptions, "broadcast", 1024, s(400)),
    timeCase("broadcast-per-target/8192", arch, archOptions, "broadcast", 8192, s(50)),
  ];
  const before = heapMb();
  const sys = createSmpSystem({ cpus: 8192, seed: 1, arch, archOptions });
  const after = heapMb();
  if (sys.machine.nrCpus !== 8192) throw new Error("unreachable");
  const heap = Math.round((after - before) * 10) / 10;
  const ratio = Math.round((cases[4].nsPerCallback / cases[2].nsPerCallback) * 100) / 100;
  const targets = { broadcast1024CallbacksPerSec: 1_000_000, perTargetRatioMax: 1.5, heapMbMax: 64 };
  return {
    arch: arch.name,
    archOptions,
    node: process.version,
    cases,
    perTargetCostRatio8192vs64: ratio,
    heapMbFor8192Cpus: heap,
    targets,
    met: { broadcast1024: cases[0].callbacksPerSec >= targets.broadcast1024CallbacksPerSec, perTargetRatio: ratio <= targets.perTargetRatioMax, heap: heap <= targets.heapMbMax },
  };
}
