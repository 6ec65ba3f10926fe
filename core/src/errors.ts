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
  constructor(message: string, options?: { cause?: unknown }) {
    super("SMPCALL_SIMULATION", message, options);
  }
}
