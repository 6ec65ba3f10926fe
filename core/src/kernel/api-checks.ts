import { InvalidArgumentError, describeValue } from "../errors";
import { CpuMask } from "../machine/cpumask";
import { CallSingleData } from "./csd";

/**
 * Entry checks of the kernel API (`smpCallFunction*`, `onEachCpu*`, `initCsd`): a wrong argument
 * throws an {@link InvalidArgumentError} at the call, naming the function and the argument, instead
 * of a TypeError later on another CPU's interrupt path. A CPU id that is an integer but not a CPU
 * of this machine is not an error: the kernel returns -ENXIO for it, as Linux does.
 */

/** `func` must be a function (the callback). */
export function checkFunc(api: string, what: string, func: unknown): void {
  if (typeof func !== "function")
    throw new InvalidArgumentError(`${api}: ${what} must be a function, got ${describeValue(func)}`);
}

/** `wait` must be a boolean. */
export function checkWait(api: string, wait: unknown): void {
  if (typeof wait !== "boolean")
    throw new InvalidArgumentError(`${api}: wait must be true or false, got ${describeValue(wait)}`);
}

/** `cpu` must be an integer (out-of-range integers give -ENXIO, as in Linux). */
export function checkCpuId(api: string, cpu: unknown): void {
  if (typeof cpu !== "number" || !Number.isInteger(cpu))
    throw new InvalidArgumentError(`${api}: cpu must be an integer CPU id, got ${describeValue(cpu)}`);
}

/** `mask` must be a CpuMask of this machine's size. */
export function checkMask(api: string, mask: unknown, nrCpus: number): void {
  if (!(mask instanceof CpuMask))
    throw new InvalidArgumentError(
      `${api}: mask must be a CpuMask (e.g. CpuMask.of(${nrCpus}, [1, 2])), got ${describeValue(mask)}`,
    );
  if (mask.nrCpuIds !== nrCpus)
    throw new InvalidArgumentError(
      `${api}: mask has ${mask.nrCpuIds} CPU ids but the machine has ${nrCpus}: build it with new CpuMask(${nrCpus})`,
    );
}

/** `csd` must be a csd from `initCsd`. */
export function checkCsd(api: string, csd: unknown): void {
  if (!(csd instanceof CallSingleData))
    throw new InvalidArgumentError(
      `${api}: csd must come from kernel.initCsd(func, info), got ${describeValue(csd)}`,
    );
}

/** A `_cond` filter: a function, or null/undefined for none. */
export function checkCond(api: string, cond: unknown): void {
  if (cond !== null && cond !== undefined && typeof cond !== "function")
    throw new InvalidArgumentError(`${api}: condFunc must be a function or null, got ${describeValue(cond)}`);
}
