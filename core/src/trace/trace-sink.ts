import { InvalidArgumentError, describeValue } from "../errors";

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

/** Receives each record as it is emitted (a streaming trace writer); the sink keeps none. */
export type TraceConsumer = (record: TraceRecord) => void;

/**
 * Collects trace records for a machine (see the file comment), in one of three ways:
 * - no limit, no consumer: every record is kept in `records` (tests, the explorer);
 * - a `limit` N: a ring buffer, like the kernel's trace buffer: the last N records are kept,
 *   older ones are overwritten; `written` counts every record (ftrace's entries-written) and
 *   `records.length` the ones still in the buffer (entries-in-buffer);
 * - a `consumer`: each record is handed over as it happens and none is kept, so a long trace
 *   costs no memory here (the CLI streams it to the trace file).
 */
export class TraceSink {
  /** Collect records? Turned on by `--trace` and by tests; off for benchmarks. */
  enabled: boolean;
  /** Ring-buffer size: only the last `limit` records are kept (Infinity = all). */
  readonly limit: number;
  /** Records emitted since the start (kept, overwritten or streamed): ftrace's entries-written. */
  written = 0;
  /** Events {@link keepOnly} turned away (a kernel without those tracepoints): not in `written`. */
  leftOut = 0;
  private ring: TraceRecord[] = [];
  /** Index of the oldest record in `ring` once it is full. */
  private head = 0;
  private readonly consumer: TraceConsumer | undefined;
  /** Only these events are recorded (null: all), as a kernel's buffer only sees the events it has. */
  private only: ReadonlySet<string> | null = null;

  constructor(enabled = false, limit = Number.POSITIVE_INFINITY, consumer?: TraceConsumer) {
    if (typeof limit !== "number" || !(limit >= 1))
      throw new InvalidArgumentError(
        `trace limit must be a number of records >= 1, got ${describeValue(limit)}`,
      );
    if (consumer !== undefined && typeof consumer !== "function")
      throw new InvalidArgumentError(`a trace consumer must be a function, got ${describeValue(consumer)}`);
    if (consumer !== undefined && limit !== Number.POSITIVE_INFINITY)
      throw new InvalidArgumentError(
        "a trace sink either streams to a consumer or keeps the last `limit` records, not both",
      );
    this.enabled = enabled;
    this.limit = limit;
    this.consumer = consumer;
  }

  /**
   * Record only the events named in `names` (null: every event). Others are not counted in
   * `written` and take no ring-buffer slot, as in a kernel that does not have them.
   */
  keepOnly(names: ReadonlySet<string> | null): this {
    this.only = names;
    return this;
  }

  /** Records kept, oldest first (empty for a streaming sink). */
  get records(): TraceRecord[] {
    if (this.head !== 0) {
      this.ring = this.ring.slice(this.head).concat(this.ring.slice(0, this.head));
      this.head = 0;
    }
    return this.ring;
  }

  /** Records no longer kept: overwritten in the ring buffer (0 when nothing is lost). */
  get dropped(): number {
    return this.consumer === undefined ? this.written - this.ring.length : 0;
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
    if (this.only !== null && !this.only.has(name)) {
      this.leftOut++;
      return;
    }
    this.written++;
    const r: TraceRecord = {
      ts,
      cpu,
      name,
      fields,
      irqsOff: state.irqsDisabled,
      hardirq: state.hardirqDepth,
      idle: state.idle,
      flow,
    };
    if (this.consumer !== undefined) this.consumer(r);
    else if (this.ring.length < this.limit) this.ring.push(r);
    else {
      this.ring[this.head] = r;
      this.head = this.head + 1 === this.limit ? 0 : this.head + 1;
    }
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
