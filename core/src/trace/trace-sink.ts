/**
 * The trace: tracepoint records in the order they happened. Kernel tracepoints keep their kernel
 * names and field names (`csd_queue_cpu`, `csd_function_entry`, `ipi_send_cpu`, ...); smpcall's
 * own events are prefixed `smpcall_`. Emitters check `enabled` first so an untraced run pays
 * nothing.
 */
export type TraceFieldValue = string | number;

/** One tracepoint hit. */
export interface TraceRecord {
  /** Virtual time in ns. */
  readonly ts: number;
  /** CPU the event happened on. */
  readonly cpu: number;
  /** Tracepoint name. */
  readonly name: string;
  /** Fields in their kernel order. */
  readonly fields: Readonly<Record<string, TraceFieldValue>>;
  /** Local interrupts were disabled. */
  readonly irqsOff: boolean;
  /** Hard-IRQ depth at the event. */
  readonly hardirq: number;
  /** The CPU was running its idle task. */
  readonly idle: boolean;
  /** Flow id linking an IPI raise to the interrupt entry it caused (0 = none). */
  readonly flow: number;
}

/** Where the CPU state for a record comes from. */
export interface TraceCpuState {
  readonly irqsDisabled: boolean;
  readonly hardirqDepth: number;
  readonly idle: boolean;
}

/** Collects trace records for a machine (see the file comment). */
export class TraceSink {
  /** Records kept, in order. */
  readonly records: TraceRecord[] = [];
  /** Collect records? Turned on by `--trace` and by tests; off for benchmarks. */
  enabled: boolean;
  /** Optional cap: records past it are counted, not kept. */
  readonly limit: number;
  /** Records dropped because of the cap. */
  dropped = 0;

  constructor(enabled = false, limit = Number.POSITIVE_INFINITY) {
    this.enabled = enabled;
    this.limit = limit;
  }

  /** Record a tracepoint hit. Callers check `enabled` first on hot paths. */
  emit(
    ts: number,
    cpu: number,
    state: TraceCpuState,
    name: string,
    fields: Record<string, TraceFieldValue>,
    flow = 0,
  ): void {
    if (!this.enabled) return;
    if (this.records.length >= this.limit) {
      this.dropped++;
      return;
    }
    this.records.push({
      ts,
      cpu,
      name,
      fields,
      irqsOff: state.irqsDisabled,
      hardirq: state.hardirqDepth,
      idle: state.idle,
      flow,
    });
  }

  /** Records with a given name. */
  named(name: string): TraceRecord[] {
    return this.records.filter((r) => r.name === name);
  }

  /** Count of records with a given name. */
  count(name: string): number {
    let n = 0;
    for (const r of this.records) if (r.name === name) n++;
    return n;
  }
}
