import type { ArchDescriptor } from "../arch/descriptor";
import type { RawArchOptions } from "../arch/options";
import { CONFORMANCE_CHECKS } from "./checks";
import type { ConformanceCheck, ConformanceContext, ConformanceResult } from "./types";

/** How to run the kit. */
export interface ConformanceOptions {
  /** Backend options for every system (default none). */
  options?: RawArchOptions;
  /** Machine sizes of the mask check (default 2, 3, 64, 1024, 8192). */
  cpuSizes?: readonly number[];
  /** Random schedules to try (default 25). */
  schedules?: number;
  /** Only these checks (by name). */
  only?: readonly string[];
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
    cpuSizes: opts.cpuSizes ?? DEFAULT_CONFORMANCE_SIZES,
    schedules: opts.schedules ?? 25,
  };
}

/** Run one check: pass, fail (with the message) or skipped (with the capability reason). */
export function runConformanceCheck(check: ConformanceCheck, ctx: ConformanceContext): ConformanceResult {
  const skip = check.applies?.(ctx) ?? null;
  if (skip !== null) return { name: check.name, status: "skipped", message: skip, ms: 0 };
  const t0 = performance.now();
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

/** Run the whole kit against a backend and return one result per check (for any runner). */
export function runConformance(
  descriptor: ArchDescriptor,
  opts: ConformanceOptions = {},
): ConformanceResult[] {
  const ctx = conformanceContext(descriptor, opts);
  return CONFORMANCE_CHECKS.filter((c) => !opts.only || opts.only.includes(c.name)).map((c) =>
    runConformanceCheck(c, ctx),
  );
}
