import { kernelProfile, type KernelProfileName } from "../kernel/profile";
import { checkArchIdleMode, type ArchDescriptor } from "../arch/descriptor";
import type { RawArchOptions } from "../arch/options";
import { IDLE_MODES, type IdleMode } from "../kernel/idle-loop";
import { archLabel } from "../arch/loader";
import { CONFORMANCE_CHECKS } from "./checks";
import { underTripwire } from "./nondeterminism";
import { DEFAULT_KIT_CHECK_WALL_MS, DEFAULT_KIT_EVENT_BUDGET, KitGuard } from "./guard";
import {
  KitMachineRefused,
  type ConformanceCheck,
  type ConformanceContext,
  type ConformanceResult,
} from "./types";
import { InvalidArgumentError, describeValue } from "../errors";
import { MAX_CPUS, MIN_CPUS } from "../machine/machine";
import { checkChoice, checkFunction, checkInteger, checkNumber, checkObject } from "../validate";

/** How to run the kit. */
export interface ConformanceOptions {
  /** Backend options for every system (default none). */
  options?: RawArchOptions;
  /** Kernel profile every system of the kit runs (default 6.1). */
  kernel?: KernelProfileName;
  /** How idle CPUs sleep in the kit's machines (default `halt`, so idle targets need IPIs). */
  idle?: IdleMode;
  /** Machine sizes of the mask check (default 2, 3, 64, 1024, 8192). */
  cpuSizes?: readonly number[];
  /** Random schedules to try (default 25). */
  schedules?: number;
  /** Only these checks (by name). */
  only?: readonly string[];
  /** Events one machine run of a check may take before the check fails (default 2,000,000). */
  eventBudget?: number;
  /** Wall-clock ms one check may take before it fails (default 20,000). */
  checkWallMs?: number;
  /** Called when a check starts (e.g. to show it on a terminal). */
  onCheckStart?: (check: ConformanceCheck) => void;
  /** Called with each result as soon as its check ends. */
  onResult?: (result: ConformanceResult) => void;
}

/** Machine sizes the mask check uses by default. */
export const DEFAULT_CONFORMANCE_SIZES: readonly number[] = [2, 3, 64, 1024, 8192];

/**
 * Check the kit's arguments once, at entry: a descriptor object and options of the right types
 * (CPU counts 2..8192, known check names, positive budgets); an InvalidArgumentError otherwise.
 */
export function checkConformanceArgs(descriptor: ArchDescriptor, opts: ConformanceOptions): void {
  if (typeof descriptor !== "object" || descriptor === null || Array.isArray(descriptor))
    throw new InvalidArgumentError(
      `runConformance: descriptor must be an ArchDescriptor (what a backend module exports), got ${describeValue(descriptor)}`,
    );
  checkObject("runConformance: options", opts);
  if (opts.options !== undefined) checkObject("runConformance: options.options", opts.options);
  if (opts.cpuSizes !== undefined) {
    if (!Array.isArray(opts.cpuSizes) || opts.cpuSizes.length === 0)
      throw new InvalidArgumentError(
        `runConformance: cpuSizes must be a non-empty array of CPU counts ${MIN_CPUS}..${MAX_CPUS}, got ${describeValue(opts.cpuSizes)}`,
      );
    opts.cpuSizes.forEach((n, i) => checkInteger(`runConformance: cpuSizes[${i}]`, n, MIN_CPUS, MAX_CPUS));
  }
  if (opts.idle !== undefined) {
    checkChoice("runConformance: idle", opts.idle, IDLE_MODES);
    checkArchIdleMode(descriptor, archLabel(descriptor), opts.idle);
  }
  if (opts.schedules !== undefined) checkInteger("runConformance: schedules", opts.schedules, 1, 10_000);
  if (opts.only !== undefined) {
    if (!Array.isArray(opts.only))
      throw new InvalidArgumentError(
        `runConformance: only must be an array of check names, got ${describeValue(opts.only)}`,
      );
    const names = CONFORMANCE_CHECKS.map((c) => c.name);
    for (const n of opts.only)
      if (typeof n !== "string" || !names.includes(n))
        throw new InvalidArgumentError(
          `runConformance: unknown check ${describeValue(n)} in only; checks: ${names.join(", ")}`,
        );
  }
  if (opts.eventBudget !== undefined)
    checkInteger("runConformance: eventBudget", opts.eventBudget, 1, Number.MAX_SAFE_INTEGER);
  if (opts.checkWallMs !== undefined) checkNumber("runConformance: checkWallMs", opts.checkWallMs, 1, 1e9);
  if (opts.onCheckStart !== undefined) checkFunction("runConformance: onCheckStart", opts.onCheckStart);
  if (opts.onResult !== undefined) checkFunction("runConformance: onResult", opts.onResult);
}

/** Build the context the checks get (after {@link checkConformanceArgs}). */
export function conformanceContext(
  descriptor: ArchDescriptor,
  opts: ConformanceOptions = {},
): ConformanceContext {
  checkConformanceArgs(descriptor, opts);
  return {
    descriptor,
    options: opts.options ?? {},
    kernel: kernelProfile(opts.kernel).name,
    idle: opts.idle ?? "halt",
    cpuSizes: opts.cpuSizes ?? DEFAULT_CONFORMANCE_SIZES,
    schedules: opts.schedules ?? 25,
    guard: new KitGuard(
      opts.eventBudget ?? DEFAULT_KIT_EVENT_BUDGET,
      opts.checkWallMs ?? DEFAULT_KIT_CHECK_WALL_MS,
    ),
  };
}

/**
 * Run one check: pass, fail (with the message) or skipped (with the reason: a capability the
 * backend does not declare, or a machine size it refuses with the run's options).
 */
export function runConformanceCheck(check: ConformanceCheck, ctx: ConformanceContext): ConformanceResult {
  const skip = check.applies?.(ctx) ?? null;
  if (skip !== null)
    return { name: check.name, status: "skipped", message: skip, ms: 0, skipReason: "capability" };
  const refused = check.refusedSize?.(ctx) ?? null;
  if (refused !== null)
    return { name: check.name, status: "skipped", message: refused, ms: 0, skipReason: "machine-size" };
  const t0 = performance.now();
  ctx.guard.begin(check.name);
  try {
    underTripwire(() => {
      check.run(ctx);
      ctx.guard.end();
    });
    return { name: check.name, status: "pass", message: "", ms: Math.round(performance.now() - t0) };
  } catch (e) {
    if (e instanceof KitMachineRefused)
      return {
        name: check.name,
        status: "skipped",
        message: e.explanation,
        ms: Math.round(performance.now() - t0),
        skipReason: "machine-size",
      };
    return {
      name: check.name,
      status: "fail",
      message: e instanceof Error ? e.message : String(e),
      ms: Math.round(performance.now() - t0),
    };
  }
}

/**
 * Run the whole kit against a backend and return one result per check (for any runner). Every
 * check runs under the event budget and wall-clock limit, so a backend that never finishes gives
 * a failed check, not a hang.
 */
export function runConformance(
  descriptor: ArchDescriptor,
  opts: ConformanceOptions = {},
): ConformanceResult[] {
  const ctx = conformanceContext(descriptor, opts);
  const results: ConformanceResult[] = [];
  for (const c of CONFORMANCE_CHECKS) {
    if (opts.only && !opts.only.includes(c.name)) continue;
    if (c.applies?.(ctx) == null && c.refusedSize?.(ctx) == null) opts.onCheckStart?.(c);
    const r = runConformanceCheck(c, ctx);
    opts.onResult?.(r);
    results.push(r);
  }
  return results;
}
