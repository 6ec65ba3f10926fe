/**
 * Typed errors. Every error has a stable `code`; usage errors are the ones the CLI maps to
 * exit status 2 (bad input a user can fix), everything else is a bug or a run problem.
 */

/** No such device or address: the target CPU is invalid or offline. Returned negated, as in Linux. */
export const ENXIO = 6;
/** Device or resource busy: the csd is still in flight. */
export const EBUSY = 16;
/** Invalid argument (e.g. cpu_down of a CPU that is not online). */
export const EINVAL = 22;

/** Name of a negated errno, for messages: `errnoName(-6) === "-ENXIO"`. */
export function errnoName(ret: number): string {
  switch (ret) {
    case 0:
      return "0";
    case -ENXIO:
      return "-ENXIO";
    case -EBUSY:
      return "-EBUSY";
    case -EINVAL:
      return "-EINVAL";
    default:
      return String(ret);
  }
}

/** Base class of every error smpcall throws on purpose. */
export class SmpcallError extends Error {
  constructor(
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Bad input from a user (CLI flag, option value, config): the message says what was wrong and what is accepted. */
export class UsageError extends SmpcallError {
  constructor(message: string, code = "SMPCALL_USAGE", options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/** A backend could not be found, loaded, or does not export a valid descriptor. */
export class ArchLoadError extends UsageError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, "SMPCALL_ARCH_LOAD", options);
  }
}

/** A backend option is unknown or has a bad value. */
export class ArchOptionError extends UsageError {
  constructor(message: string) {
    super(message, "SMPCALL_ARCH_OPTION");
  }
}

/** Code running on a simulated CPU broke a rule the machine cannot continue from. */
export class SimulationError extends SmpcallError {
  constructor(message: string, options?: { cause?: unknown }, code = "SMPCALL_SIMULATION") {
    super(code, message, options);
  }
}

/**
 * A public API was called with an argument of the wrong type or range: a mask of another size, a
 * callback that is not a function, a CPU id that is not an integer, a program that is not a
 * generator, an option of the wrong type. Thrown at the call, before anything runs.
 */
export class InvalidArgumentError extends SmpcallError {
  constructor(message: string) {
    super("SMPCALL_INVALID_ARGUMENT", message);
  }
}

/**
 * Code on a simulated CPU gave the machine time or a target it cannot use: a step cost or raise
 * delay that is negative, NaN, infinite or not a number, or a raise to a CPU or line that does not
 * exist. The run stops; the message names the code (program or backend), the CPU and the value.
 */
export class InvalidStepError extends SimulationError {
  constructor(
    message: string,
    /** The CPU whose code gave the value (or -1 outside CPU code). */
    readonly cpu: number,
    /** The value refused. */
    readonly value: unknown,
    /** Whose code it was, e.g. `backend generic (interrupt handler, line 0)`. */
    readonly culprit: string,
  ) {
    super(message, undefined, "SMPCALL_INVALID_STEP");
  }
}

/**
 * Code supplied by the user — a program, a callback, a backend, a scenario — threw while the
 * machine ran it. `cause` is what it threw; the message says on which CPU, when and in what context.
 */
export class UserCodeError extends SmpcallError {
  constructor(
    message: string,
    /** The CPU the code ran on, or -1 (a hardware callback, or outside the run loop). */
    readonly cpu: number,
    /** Whose code it was, e.g. `the program on CPU 2`. */
    readonly culprit: string,
    options?: { cause?: unknown },
  ) {
    super("SMPCALL_USER_CODE", message, options);
  }
}

/**
 * A user module (a backend or scenario loaded by path) that a worker thread loads anew did not
 * finish loading within the limit: its top-level code ran without returning (an endless loop, or
 * a wait that never ends), typically because it behaves differently once it was loaded before (a
 * global, a file or an environment variable a previous load set). The CLI stops the command with
 * the message (exit 1): a synchronous loop cannot be interrupted any other way.
 */
export class ModuleLoadTimeoutError extends SmpcallError {
  constructor(
    message: string,
    /** The modules the worker was loading, as given (`--arch`, `$SMPCALL_ARCH`, `--scenario`). */
    readonly modules: readonly string[],
    /** The limit that ran out, in seconds. */
    readonly limitS: number,
  ) {
    super("SMPCALL_MODULE_LOAD_TIMEOUT", message);
  }
}

/** One line describing a thrown value: `TypeError: x is not a function`. */
export function describeThrown(e: unknown): string {
  // The user's value may throw as it is read: a name or message getter, a Proxy, a toString.
  let isError = false;
  try {
    isError = e instanceof Error;
    if (isError) return `${String((e as Error).name)}: ${String((e as Error).message).split("\n")[0]}`;
    return `${typeof e} ${String(e)}`;
  } catch {
    return isError ? "an Error whose name or message cannot be read" : typeof e;
  }
}

/** A value as a message shows it: strings quoted, others as `String` would, objects by type. */
export function describeValue(v: unknown): string {
  if (typeof v === "string") return JSON.stringify(v.length > 40 ? v.slice(0, 40) + "..." : v);
  if (typeof v === "number" || typeof v === "boolean" || v == null) return String(v);
  if (typeof v === "bigint") return `${v}n (a bigint, not a number)`;
  if (typeof v === "function") return `a function`;
  if (Array.isArray(v)) return `an array`;
  const name = (v as { constructor?: { name?: string } }).constructor?.name;
  return name && name !== "Object" ? `a ${name}` : "an object";
}
