import { UsageError } from "../errors";
import { Prng } from "../machine/prng";
import { buildRunReport, type RunReport } from "../report/run-report";
import { createSmpSystem, type SmpSystem, type SystemConfig } from "../system";
import type { RunOptions, RunOutcome } from "../machine/machine";
import { getWorkload } from "./index";

/** Largest `ops` a run accepts. */
export const MAX_OPS = 10_000_000;

/** A system configuration plus the workload to run on it. */
export interface WorkloadRunConfig extends SystemConfig {
  /** Workload name (default mixed). */
  workload?: string;
  /** Operations (default: the workload's default for the CPU count). */
  ops?: number;
  /** Event limit (default unlimited). */
  maxEvents?: number;
  /** Progress callback (see RunOptions.onProgress). */
  onProgress?: RunOptions["onProgress"];
}

/** What {@link runWorkload} returns. */
export interface WorkloadRunResult {
  readonly system: SmpSystem;
  readonly outcome: RunOutcome;
  readonly report: RunReport;
}

/** Build a system, install a workload, run it and collect the report. */
export function runWorkload(config: WorkloadRunConfig): WorkloadRunResult {
  const workload = getWorkload(config.workload ?? "mixed");
  const ops = config.ops ?? workload.defaultOps(config.cpus);
  if (!Number.isInteger(ops) || ops < 1 || ops > MAX_OPS)
    throw new UsageError(`bad --ops ${ops}: expected an integer 1..${MAX_OPS}`);
  const system = createSmpSystem(config);
  workload.install({ system, ops, rng: new Prng(system.machine.seed).fork(`workload:${workload.name}`) });
  const outcome = system.run({ maxEvents: config.maxEvents, onProgress: config.onProgress });
  const report = buildRunReport(system, outcome, {
    workload: workload.name,
    ops,
    idle: config.idle ?? "halt",
  });
  return { system, outcome, report };
}
