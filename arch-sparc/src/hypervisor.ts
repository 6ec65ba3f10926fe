/** sun4v hypervisor status codes (cpu_mondo_send). */
export const HV_EOK = 0;
/** A CPU id does not belong to the domain. */
export const HV_ENOCPU = 1;
/** Some target's cpu mondo queue is full: retry. */
export const HV_EWOULDBLOCK = 9;
/** Some target is in error state. */
export const HV_ECPUERROR = 12;
/** Marks a delivered entry in the CPU list. */
export const CPU_LIST_DONE = 0xffff;

/** Retry wait per target CPU, and its minimum (µs). */
export const MONDO_USEC_WAIT_MIN = 2;
/** Maximum retry wait (µs). */
export const MONDO_USEC_WAIT_MAX = 100;
/** Kernel's retry limit without progress. */
export const MONDO_RETRY_LIMIT = 500000;
/** sun4u: BUSY polls per dispatched slot before "mondo stuckage" (Cheetah), or per target (Spitfire). */
export const SUN4U_STUCK_POLLS = 100000;

/**
 * The sun4v retry wait, computed once per cross-call from the initial target count: 2 µs per
 * CPU, at most 100 µs (at least 2, since there is at least one target). Returns ns.
 */
export function mondoRetryDelayNs(initialCount: number): number {
  return (
    Math.min(MONDO_USEC_WAIT_MAX, Math.max(MONDO_USEC_WAIT_MIN, MONDO_USEC_WAIT_MIN * initialCount)) * 1000
  );
}

/**
 * The progress bookkeeping of `hypervisor_xcall_deliver` after a try that left targets in the
 * list: `nSent` entries of this try were delivered, `firstCpu` is the first CPU still in the
 * (repacked) list and `counter` its `cpu_mondo_counter` now (mondos it has taken). A try
 * "delivered" when it delivered more entries than the try before it; a target is "busy" when the
 * first remaining CPU took mondos since the last look. Either resets the retry count; otherwise,
 * past the limit, it is a mondo timeout. The wait is spent only after a try that did not deliver.
 */
export class MondoRetryState {
  /** Tries without progress since the last progress. */
  retries = 0;
  /** Retries summed over the cross-call (as the timeout message counts them). */
  totalRetries = 0;
  private prevSent = 0;
  private firstCpu = -1;
  private seen = 0;

  constructor(private readonly retryLimit: number) {}

  /** Start a new cross-call (the state is reused per sender, no allocation per send). */
  reset(): this {
    this.retries = 0;
    this.totalRetries = 0;
    this.prevSent = 0;
    this.firstCpu = -1;
    this.seen = 0;
    return this;
  }

  /** Account one try; returns "timeout", "wait" (udelay, then retry) or "retry" (at once). */
  afterTry(nSent: number, firstCpu: number, counter: number): "timeout" | "wait" | "retry" {
    if (firstCpu !== this.firstCpu) {
      this.firstCpu = firstCpu;
      this.seen = counter;
    }
    const delivered = nSent > this.prevSent;
    this.prevSent = nSent;
    const busy = this.seen < counter;
    this.seen = counter;
    if (delivered || busy) {
      this.totalRetries += this.retries;
      this.retries = 0;
    } else if (this.retries > this.retryLimit) {
      return "timeout";
    }
    this.retries++;
    return delivered ? "retry" : "wait";
  }
}

/**
 * Machine lines (a lower line is taken first): the cpu mondo trap, then the softints in the order
 * of their PILs, highest first, as the CPU takes the highest pending interrupt level above PIL.
 */
export const LINE_MONDO = 0;
/** PIL_SMP_CALL_FUNC_SNGL (PIL 6). */
export const LINE_SOFTINT_SINGLE = 1;
/** Reschedule softint (PIL_SMP_RECEIVE_SIGNAL, PIL 2). */
export const LINE_SOFTINT_RESCHED = 2;
/** PIL_SMP_CALL_FUNC (PIL 1). */
export const LINE_SOFTINT_CALL_FUNC = 3;

/** What a mondo carries in word 0: which trap-level handler to run. */
export const XCALL_CALL_FUNCTION = 0;
/** xcall_call_function_single. */
export const XCALL_CALL_FUNCTION_SINGLE = 1;
/** xcall_receive_signal (reschedule). */
export const XCALL_RECEIVE_SIGNAL = 2;
/** Handler names, by xcall number. */
export const XCALL_NAMES = [
  "xcall_call_function",
  "xcall_call_function_single",
  "xcall_receive_signal",
] as const;
/** The softint line each xcall handler raises. */
export const SOFTINT_OF_XCALL = [LINE_SOFTINT_CALL_FUNC, LINE_SOFTINT_SINGLE, LINE_SOFTINT_RESCHED] as const;

/** sun4u Cheetah: BUSY/NACK pairs per dispatch. */
export const CHEETAH_MAX_TARGETS = 32;
