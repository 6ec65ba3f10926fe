/** Counters the kernel layer keeps while a machine runs. */
export class KernelStats {
  /** Public cross-call API invocations (single, async, many/cond and their wrappers). */
  callsIssued = 0;
  /** csds queued to remote CPUs. */
  csdsQueued = 0;
  /** Callbacks executed (remote and local). */
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
  /** Reschedule IPIs sent (wake_up_all_idle_cpus). */
  rescheduleIpis = 0;
  /** IPIs re-sent by the CSD lock-wait watchdog. */
  watchdogResends = 0;
  /** Queue flushes that found work: from interrupts, from idle, from a dying CPU. */
  flushesIrq = 0;
  flushesIdle = 0;
  flushesDying = 0;
  /** Calls that returned -ENXIO / -EBUSY. */
  enxio = 0;
  ebusy = 0;
  /** Per CPU: callbacks run there. */
  readonly callbacksOn: Uint32Array;
  /** Per CPU: IPIs (targets) it sent. */
  readonly ipisFrom: Uint32Array;
  /** Callback latency: queue-to-entry (ns) of every remote callback. */
  readonly latency = new LatencyRecorder();

  constructor(nrCpus: number) {
    this.callbacksOn = new Uint32Array(nrCpus);
    this.ipisFrom = new Uint32Array(nrCpus);
  }
}

/** A growable array of latency samples with exact percentiles. */
export class LatencyRecorder {
  private samples = new Float64Array(1024);
  private n = 0;
  private sorted = true;

  /** Number of samples. */
  get count(): number {
    return this.n;
  }

  /** Add one sample (ns). */
  record(ns: number): void {
    if (this.n === this.samples.length) {
      const bigger = new Float64Array(this.samples.length * 2);
      bigger.set(this.samples);
      this.samples = bigger;
    }
    this.samples[this.n++] = ns;
    this.sorted = false;
  }

  /** The p-th percentile (0..100), nearest-rank; 0 when there are no samples. */
  percentile(p: number): number {
    if (this.n === 0) return 0;
    if (!this.sorted) {
      this.samples.subarray(0, this.n).sort();
      this.sorted = true;
    }
    const rank = Math.min(this.n - 1, Math.max(0, Math.ceil((p / 100) * this.n) - 1));
    return this.samples[rank];
  }

  /** Mean of the samples (0 when none). */
  mean(): number {
    let s = 0;
    for (let i = 0; i < this.n; i++) s += this.samples[i];
    return this.n === 0 ? 0 : s / this.n;
  }

  /** A copy of the samples, in record order unless a percentile was asked for. */
  values(): Float64Array {
    return this.samples.slice(0, this.n);
  }
}
