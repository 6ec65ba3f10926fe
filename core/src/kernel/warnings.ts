import type { TraceSink, TraceCpuState } from "../trace/trace-sink";

/** One kernel-style warning (WARN_ON_ONCE and friends), with how often its site fired. */
export interface WarningRecord {
  /** Stable id of the warning site, e.g. `smp_call_function_single:irqs-disabled`. */
  readonly site: string;
  /** CPU and time of the first hit. */
  readonly cpu: number;
  readonly time: number;
  /** What the kernel would print. */
  readonly message: string;
  /** Hits of this site (the first is reported, the rest counted). */
  count: number;
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
  warnOnce(site: string, cpu: number, time: number, message: string, state?: TraceCpuState): boolean {
    const had = this.bySite.get(site);
    if (had) {
      had.count++;
      return false;
    }
    const rec: WarningRecord = { site, cpu, time, message, count: 1 };
    this.records.push(rec);
    this.bySite.set(site, rec);
    if (state && this.trace?.enabled) this.trace.emit(time, cpu, state, "smpcall_warning", { site, message });
    return true;
  }

  /** A warning printed every time (pr_warn): each distinct message is kept once, repeats counted. */
  warn(site: string, cpu: number, time: number, message: string, state?: TraceCpuState): void {
    this.warnOnce(`${site}:${message}`, cpu, time, message, state);
  }

  /** Records whose site starts with `prefix`. */
  bySitePrefix(prefix: string): WarningRecord[] {
    return this.records.filter((r) => r.site.startsWith(prefix));
  }
}
