import type { TraceSink, TraceCpuState } from "../trace/trace-sink";

/** One kernel-style warning (WARN_ON_ONCE and friends), with how often its site fired. */
export interface WarningRecord {
  /** Stable id of the warning site, e.g. `smp_call_function_single:irqs-disabled`. */
  readonly site: string;
  /** CPU and time of the first hit. */
  readonly cpu: number;
  readonly time: number;
  /** What happened, in smpcall's words. */
  readonly message: string;
  /** Where the kernel's splat says the warning is (`kernel/smp.c:760`), for the machine's kernel profile. */
  readonly location?: string;
  /**
   * What the kernel prints: a WARN's own format line if it has one, then its
   * `WARNING: CPU: n PID: p at file:line function` line; a pr_warn's line as it is.
   */
  readonly kernelText?: string;
  /** Hits of this site (the first is reported, the rest counted). */
  count: number;
}

/** Where a warning comes from in the kernel, and what the kernel prints for it. */
export interface KernelWarningText {
  readonly location: string;
  readonly kernelText: string;
}

/**
 * The kernel's splat for a WARN at `location` in `func` on `cpu`, preceded by the WARN's own
 * formatted line when it has one. The PID is the task's: 0 for the idle task, 1000 + cpu for the
 * CPU's program (the same numbering as the ftrace export).
 */
export function warnSplat(
  location: string,
  func: string,
  cpu: number,
  idle: boolean,
  formatted?: string,
): KernelWarningText {
  const head = formatted === undefined ? "" : `${formatted}\n`;
  return {
    location,
    kernelText: `${head}WARNING: CPU: ${cpu} PID: ${idle ? 0 : 1000 + cpu} at ${location} ${func}`,
  };
}

/**
 * Warnings recorded the way the kernel WARNs: once per site, repeats counted, never swallowed.
 * Each first hit is also a trace record (`smpcall_warning`).
 */
export class WarningLog {
  readonly records: WarningRecord[] = [];
  private readonly bySite = new Map<string, WarningRecord>();

  constructor(private readonly trace?: TraceSink) {}

  /** WARN_ON_ONCE: record the first hit of `site`, count the others. Returns true on the first hit. */
  warnOnce(
    site: string,
    cpu: number,
    time: number,
    message: string,
    state?: TraceCpuState,
    kernel?: KernelWarningText,
  ): boolean {
    const had = this.bySite.get(site);
    if (had) {
      had.count++;
      return false;
    }
    const rec: WarningRecord =
      kernel === undefined
        ? { site, cpu, time, message, count: 1 }
        : { site, cpu, time, message, location: kernel.location, kernelText: kernel.kernelText, count: 1 };
    this.records.push(rec);
    this.bySite.set(site, rec);
    if (state && this.trace?.enabled) this.trace.emit(time, cpu, state, "smpcall_warning", { site, message });
    return true;
  }

  /** A warning printed every time (pr_warn): each distinct message is kept once, repeats counted. */
  warn(
    site: string,
    cpu: number,
    time: number,
    message: string,
    state?: TraceCpuState,
    kernel?: KernelWarningText,
  ): void {
    this.warnOnce(`${site}:${message}`, cpu, time, message, state, kernel);
  }

  /** Records whose site starts with `prefix`. */
  bySitePrefix(prefix: string): WarningRecord[] {
    return this.records.filter((r) => r.site.startsWith(prefix));
  }
}
