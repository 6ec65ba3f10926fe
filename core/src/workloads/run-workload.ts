import { InvalidArgumentError, UsageError, describeValue } from "../errors";
import { checkInteger, checkObject } from "../validate";
import { Prng } from "../machine/prng";
import { buildRunReport, type RunReport } from "../report/run-report";
import { checkSystemConfig, createSmpSystem, type SmpSystem, type SystemConfig } from "../system";
import type { RunOptions, RunOutcome } from "../machine/machine";
import { getWorkload } from "./index";

/** Largest `ops` a run accepts. */
export const MAX_OPS = 10_000_000;

/**
 * Events a workload run may take when no `maxEvents` is given: {@link EVENTS_PER_OP_CPU} x (ops + 1)
 * x CPUs, at least {@link MIN_EVENT_BUDGET}. Every built-in workload on every built-in backend
 * takes under 6 events per op and CPU (measured on 2..512 CPUs), so the budget only ends runs that
 * livelock — a backend whose handler never returns or that retries forever — with a step-limit
 * problem instead of a hang.
 */
export function defaultEventBudget(cpus: number, ops: number): number {
  return Math.max(MIN_EVENT_BUDGET, EVENTS_PER_OP_CPU * (ops + 1) * cpus);
}
/** Events per (op + 1) and CPU a run may take by default (see {@link defaultEventBudget}). */
export const EVENTS_PER_OP_CPU = 200;
/** Smallest default event budget. */
export const MIN_EVENT_BUDGET = 1_000_000;

/** A system configuration plus the workload to run on it. */
export interface WorkloadRunConfig extends SystemConfig {
  /** Workload name (default mixed). */
  workload?: string;
  /** Operations (default: the workload's default for the CPU count). */
  ops?: number;
  /** Event limit (default {@link defaultEventBudget}; `Infinity` for none). */
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
  checkObject("the runWorkload config", config);
  // The run's own keys apart: the rest is the system's config (whose unknown keys are refused).
  const {
    workload: _workload,
    ops: _ops,
    maxEvents: _maxEvents,
    onProgress: _onProgress,
    ...systemConfig
  } = config;
  checkSystemConfig(systemConfig);
  if (config.workload !== undefined && typeof config.workload !== "string")
    throw new InvalidArgumentError(`workload must be a workload name, got ${describeValue(config.workload)}`);
  const workload = getWorkload(config.workload ?? "mixed");
  if (config.ops !== undefined) checkInteger("ops", config.ops, 1, MAX_OPS);
  const system = createSmpSystem(systemConfig);
  const ops = config.ops ?? workload.defaultOps(config.cpus);
  if (!Number.isInteger(ops) || ops < 1 || ops > MAX_OPS)
    throw new UsageError(`bad --ops ${ops}: expected an integer 1..${MAX_OPS}`);
  if (config.maxEvents !== undefined && !(typeof config.maxEvents === "number" && config.maxEvents >= 1))
    throw new InvalidArgumentError(`maxEvents must be a number >= 1, got ${describeValue(config.maxEvents)}`);
  workload.install({ system, ops, rng: new Prng(system.machine.seed).fork(`workload:${workload.name}`) });
  const budget = config.maxEvents ?? defaultEventBudget(config.cpus, ops);
  const outcome = system.run({
    maxEvents: budget,
    onProgress: config.onProgress,
    limitHint:
      config.maxEvents === undefined
        ? `the default budget for ${ops} ops on ${config.cpus} CPUs; give --max-events N to allow more`
        : undefined,
  });
  const report = buildRunReport(system, outcome, {
    workload: workload.name,
    ops,
    idle: config.idle ?? "halt",
  });
  return { system, outcome, report };
}
