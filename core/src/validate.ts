import { InvalidArgumentError, describeValue } from "./errors";

/**
 * Checks for the public API's entry points: each throws an {@link InvalidArgumentError} naming
 * the argument, the value given and what is accepted. They run once per call, never per event.
 */

/** `what` must be an integer in [min, max]. */
export function checkInteger(what: string, v: unknown, min: number, max: number): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max)
    throw new InvalidArgumentError(`${what} must be an integer ${min}..${max}, got ${describeValue(v)}`);
  return v;
}

/** `what` must be a finite number in [min, max]. */
export function checkNumber(what: string, v: unknown, min: number, max: number): number {
  if (typeof v !== "number" || !(v >= min && v <= max))
    throw new InvalidArgumentError(`${what} must be a number ${min}..${max}, got ${describeValue(v)}`);
  return v;
}

/** `what` must be a function. */
export function checkFunction(what: string, v: unknown): void {
  if (typeof v !== "function")
    throw new InvalidArgumentError(`${what} must be a function, got ${describeValue(v)}`);
}

/** `what` must be a boolean. */
export function checkBoolean(what: string, v: unknown): void {
  if (typeof v !== "boolean")
    throw new InvalidArgumentError(`${what} must be true or false, got ${describeValue(v)}`);
}

/** `what` must be a plain object (not null, not an array). */
export function checkObject(what: string, v: unknown): void {
  if (typeof v !== "object" || v === null || Array.isArray(v))
    throw new InvalidArgumentError(`${what} must be an object, got ${describeValue(v)}`);
}

/** `what` must be one of `choices`. */
export function checkChoice<T extends string>(what: string, v: unknown, choices: readonly T[]): T {
  if (typeof v !== "string" || !(choices as readonly string[]).includes(v))
    throw new InvalidArgumentError(`${what} must be one of ${choices.join(", ")}, got ${describeValue(v)}`);
  return v as T;
}

/** The keys of `obj` must all be in `known` (own keys only: `__proto__` or `constructor` are unknown too). */
export function checkKnownKeys(what: string, obj: object, known: readonly string[]): void {
  for (const k of Object.keys(obj))
    if (!known.includes(k))
      throw new InvalidArgumentError(`unknown ${what} "${k}"; known: ${known.join(", ")}`);
}

/** Is `x` a generator object (something `yield*` and the machine can drive)? */
export function isGenerator(x: unknown): boolean {
  return (
    typeof x === "object" &&
    x !== null &&
    typeof (x as Generator).next === "function" &&
    typeof (x as Generator)[Symbol.iterator] === "function"
  );
}
