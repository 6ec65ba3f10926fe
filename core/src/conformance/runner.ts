import { kernelProfile, type KernelProfileName } from "../kernel/profile";
import type { ArchDescriptor } from "../arch/descriptor";
import type { RawArchOptions } from "../arch/options";
import type { IdleMode } from "../kernel/idle-loop";
import { CONFORMANCE_CHECKS } from "./checks";
import { DEFAULT_KIT_CHECK_WALL_MS, DEFAULT_KIT_EVENT_BUDGET, KitGuard } from "./guard";
import type { ConformanceCheck, ConformanceContext, ConformanceResult } from "./types";

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

/** Build the context the checks get. */
export function conformanceContext(
  descriptor: ArchDescriptor,
  opts: ConformanceOptions = {},
): ConformanceContext {
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

/** Run one check: pass, fail (with the message) or skipped (with the capability reason). */
export function runConformanceCheck(check: ConformanceCheck, ctx: ConformanceContext): ConformanceResult {
  const skip = check.applies?.(ctx) ?? null;
  if (skip !== null) return { name: check.name, status: "skipped", message: skip, ms: 0 };
  const t0 = performance.now();
  ctx.guard.begin(check.name);
  try {
    check.run(ctx);
    return { name: check.name, status: "pass", message: "", ms: Math.round(performance.now() - t0) };
  } catch (e) {
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
    if (c.applies?.(ctx) == null) opts.onCheckStart?.(c);
    const r = runConformanceCheck(c, ctx);
    opts.onResult?.(r);
    results.push(r);
  }
  return results;
}
