/** Counters the kernel layer keeps while a machine runs. */
export class KernelStats {
  /** Public cross-call API invocations (single, async, many/cond and their wrappers). */
  callsIssued = 0;
  /** csds queued to remote CPUs. */
  csdsQueued = 0;
  /** csd callbacks executed, remote and local (irq_work and wake-ups: `irqWorkRun`, `ttwuActivated`). */
  callbacksRun = 0;
  /** Of those, run on the calling CPU itself. */
  callbacksLocal = 0;
  /** ipi_send_cpu events: single IPIs sent. */
  ipisSingle = 0;
  /** ipi_send_cpumask events: mask IPIs sent. */
  ipisMask = 0;
  /** CPUs signalled by those IPIs (single + every mask's weight): "IPIs sent" in reports. */
  ipiTargets = 0;
  /** Queue adds that found the target queue non-empty, so no IPI was needed. */
  ipisSaved = 0;
  /** IPIs avoided because the target was polling in idle (need_resched set instead). */
  idlePollKicks = 0;
  /** Reschedule IPIs sent (smp_send_reschedule, wake_up_all_idle_cpus). */
  rescheduleIpis = 0;
  /** IPIs re-sent by the CSD lock-wait watchdog. */
  watchdogResends = 0;
  /** Queue flushes that found work: from interrupts, from idle, from a dying CPU. */
  flushesIrq = 0;
  flushesIdle = 0;
  flushesDying = 0;
  /** irq_work entries run from the call queue (second flush pass). */
  irqWorkRun = 0;
  /** Remote wake-ups activated from the call queue (third flush pass), and the batches they came in. */
  ttwuActivated = 0;
  ttwuBatches = 0;
  /** Calls that returned -ENXIO / -EBUSY. */
  enxio = 0;
  ebusy = 0;
  /** Per CPU: IPIs (targets) it sent. */
  readonly ipisFrom: Uint32Array;
  /** Callback latency: queue-to-entry (ns) of every remote csd callback (not irq_work or wake-ups). */
  readonly latency = new LatencyRecorder();
  /**
   * The kernel counted in the CPUs' words ({@link PerCpuCountingWords}) since the arrays were last
   * brought up to date.
   */
  perCpuDirty = false;
  private readonly callbacksOnStore: Uint32Array;
  private readonly handlerCallsOnStore: Uint32Array;

  /** @param cpus the machine's CPUs, whose kernel counting words the per-CPU arrays take over */
  /** The CPUs whose words are taken over (an ES private field: a spread or JSON of the stats stays plain data). */
  readonly #cpus: readonly PerCpuCountingWords[];

  constructor(cpus: readonly PerCpuCountingWords[]) {
    this.#cpus = cpus;
    const n = cpus.length;
    this.callbacksOnStore = new Uint32Array(n);
    this.ipisFrom = new Uint32Array(n);
    this.handlerCallsOnStore = new Uint32Array(n);
  }

  /**
   * Per CPU: callbacks run there. A live array (writes to it count), brought up to date at each
   * read: the kernel counts in the CPU objects on its hot path (see {@link PerCpuCountingWords}).
   */
  get callbacksOn(): Uint32Array {
    if (this.perCpuDirty) this.takeOverCpuWords();
    return this.callbacksOnStore;
  }

  /**
   * Per CPU: calls of the generic handlers by the arch receive path (one per IPI a correct backend
   * delivers). Live and brought up to date at each read, as {@link callbacksOn}.
   */
  get handlerCallsOn(): Uint32Array {
    if (this.perCpuDirty) this.takeOverCpuWords();
    return this.handlerCallsOnStore;
  }

  /** Add what the CPUs counted since the last read to the arrays, and zero their words. */
  private takeOverCpuWords(): void {
    this.perCpuDirty = false;
    const cpus = this.#cpus;
    const cb = this.callbacksOnStore;
    const hc = this.handlerCallsOnStore;
    for (let i = 0; i < cpus.length; i++) {
      const c = cpus[i];
      if (c.kernelCallbacks !== 0) {
        cb[i] += c.kernelCallbacks;
        c.kernelCallbacks = 0;
      }
      if (c.kernelHandlerCalls !== 0) {
        hc[i] += c.kernelHandlerCalls;
        c.kernelHandlerCalls = 0;
      }
    }
  }
}

/**
 * The per-CPU words a CPU object keeps for the kernel's counters (`Cpu.kernelCallbacks`,
 * `Cpu.kernelHandlerCalls`): the kernel adds to them and sets {@link KernelStats.perCpuDirty}.
 */
export interface PerCpuCountingWords {
  /** Callbacks run on this CPU not yet added to {@link KernelStats.callbacksOn}. */
  kernelCallbacks: number;
  /** Generic handler calls on this CPU not yet added to {@link KernelStats.handlerCallsOn}. */
  kernelHandlerCalls: number;
}

/** Samples below this (ns) are counted per nanosecond; larger ones are kept and sorted. */
const DIRECT_RANGE = 1 << 21;
/** Samples {@link LatencyRecorder} batches before counting them. */
const PENDING_BATCH = 512;

/**
 * Latency samples with exact percentiles (to the nanosecond): a counting array for samples below
 * 2 ms (grown on demand by powers of two, at most 8 MB; no sort) and a growable array for the rare
 * larger ones. (At 64 us, every latency of a 1024-CPU broadcast, 85-110 us, went to the sorted
 * array: sorting 400,000 samples was 7% of the broadcast/1024 benchmark.)
 */
export class LatencyRecorder {
  private counts: Uint32Array | null = null;
  private large = new Float64Array(64);
  private nLarge = 0;
  private largeSorted = true;
  private n = 0;
  private sum = 0;
  /**
   * Samples below DIRECT_RANGE not yet counted, in arrival order. On a big machine each count
   * lands on a random line of the counting array (latencies spread over a ms: MBs); counting a
   * batch in one tight loop lets those misses overlap instead of stalling each callback.
   */
  private readonly pending = new Int32Array(PENDING_BATCH);
  private nPending = 0;

  /** Number of samples. */
  get count(): number {
    return this.n;
  }

  /** Add one sample (ns, rounded to the nanosecond). */
  record(ns: number): void {
    const v = Math.round(ns);
    this.n++;
    this.sum += v;
    // Without this branch every sample takes the sorted path: the same percentiles, slower.
    // Stryker disable next-line BlockStatement: equivalent mutant (see above)
    if (v >= 0 && v < DIRECT_RANGE) {
      this.pending[this.nPending++] = v;
      if (this.nPending === PENDING_BATCH) this.countPending();
      return;
    }
    if (this.nLarge === this.large.length) {
      const bigger = new Float64Array(this.large.length * 2);
      bigger.set(this.large);
      this.large = bigger;
    }
    this.large[this.nLarge++] = v;
    this.largeSorted = false;
  }

  /** Count the batched samples into the direct-count array (grown to cover the largest first). */
  private countPending(): void {
    const np = this.nPending;
    if (np === 0) return;
    this.nPending = 0;
    const pending = this.pending;
    let max = 0;
    for (let i = 0; i < np; i++) if (pending[i] > max) max = pending[i];
    let counts = this.counts;
    if (counts === null || max >= counts.length) counts = this.growCounts(max);
    for (let i = 0; i < np; i++) counts[pending[i]]++;
  }

  /** Grow the direct-count array (by powers of two, up to DIRECT_RANGE) to cover `v`: short runs stay small. */
  private growCounts(v: number): Uint32Array {
    let size = this.counts?.length ?? 256;
    while (size <= v) size *= 2;
    const counts = new Uint32Array(Math.min(size, DIRECT_RANGE));
    if (this.counts !== null) counts.set(this.counts);
    return (this.counts = counts);
  }

  /** The p-th percentile (0..100), nearest-rank; 0 when there are no samples. */
  percentile(p: number): number {
    if (this.n === 0) return 0;
    // For p in 0..100 the rank never exceeds n - 1: the bound is a guard.
    // Stryker disable next-line ArithmeticOperator: equivalent mutant (see above)
    let rank = Math.min(this.n - 1, Math.max(0, Math.ceil((p / 100) * this.n) - 1));
    this.countPending();
    const counts = this.counts;
    if (counts !== null) {
      for (let v = 0; v < counts.length; v++) {
        const c = counts[v];
        if (rank < c) return v;
        rank -= c;
      }
    }
    if (!this.largeSorted) {
      this.large.subarray(0, this.nLarge).sort();
      // Not remembering the sort only sorts again next time.
      // Stryker disable next-line BooleanLiteral: equivalent mutant (see above)
      this.largeSorted = true;
    }
    return this.large[rank];
  }

  /** Mean of the samples (0 when none). */
  mean(): number {
    return this.n === 0 ? 0 : this.sum / this.n;
  }
}
