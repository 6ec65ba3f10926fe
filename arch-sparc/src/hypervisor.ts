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

/** Minimum and maximum delay between retries, and the per-remaining-CPU step (µs). */
export const MONDO_USEC_WAIT_MIN = 2;
/** Maximum delay between retries (µs). */
export const MONDO_USEC_WAIT_MAX = 100;
/** Kernel's retry limit without progress. */
export const MONDO_RETRY_LIMIT = 500000;

/** The kernel's delay rule: 2 µs per remaining CPU, clamped to 2..100 µs; returns ns. */
export function mondoRetryDelayNs(remaining: number): number {
  return Math.min(MONDO_USEC_WAIT_MAX, Math.max(MONDO_USEC_WAIT_MIN, 2 * remaining)) * 1000;
}

/** Machine lines: the cpu mondo trap (highest priority), then the two softints. */
export const LINE_MONDO = 0;
/** PIL_SMP_CALL_FUNC_SNGL (PIL 6). */
export const LINE_SOFTINT_SINGLE = 1;
/** PIL_SMP_CALL_FUNC (PIL 1). */
export const LINE_SOFTINT_CALL_FUNC = 2;
/** Reschedule softint (PIL_SMP_RECEIVE_SIGNAL). */
export const LINE_SOFTINT_RESCHED = 3;

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
