import { ArchOptionError, describeValue } from "../errors";
import { CpuMask } from "../machine/cpumask";

/** One backend option: its type, default, accepted values and what it means. */
export type ArchOptionSpec =
  | {
      readonly type: "enum";
      readonly choices: readonly string[];
      readonly default: string;
      readonly description: string;
    }
  | {
      readonly type: "integer";
      readonly min: number;
      readonly max: number;
      readonly default: number;
      readonly description: string;
    }
  | {
      readonly type: "number";
      readonly min: number;
      readonly max: number;
      readonly default: number;
      readonly description: string;
    }
  | { readonly type: "boolean"; readonly default: boolean; readonly description: string }
  /** A Linux cpulist such as `3,5-7` (empty = none). Validated against the machine size later. */
  | { readonly type: "cpulist"; readonly default: string; readonly description: string };

/** A backend's options schema: option name -> spec. */
export type ArchOptionsSchema = Readonly<Record<string, ArchOptionSpec>>;

/** Option values after validation: every schema key present. */
export type ArchOptionValues = Record<string, string | number | boolean>;

/** Raw values as a user gives them (`--arch-opt k=v`, env, config). */
export type RawArchOptions = Record<string, string | number | boolean>;

/** Parse `["apic=physflat", "shorthand=off"]` into a raw record; throws on a malformed pair. */
export function parseArchOptionPairs(pairs: readonly string[]): RawArchOptions {
  // No prototype: a name such as `__proto__` or `constructor` becomes an own key, refused later as unknown.
  const out: RawArchOptions = Object.create(null) as RawArchOptions;
  for (const p of pairs) {
    if (typeof p !== "string")
      throw new ArchOptionError(`bad backend option ${describeValue(p)}: expected a "NAME=VALUE" string`);
    // Comma-separated pairs; a part without "=" continues the value before it (cpulists: 3,5-7).
    let last: string | null = null;
    for (const part of p.split(",")) {
      const eq = part.indexOf("=");
      if (eq < 0 && last !== null) {
        out[last] = `${String(out[last])},${part.trim()}`;
        continue;
      }
      const name = eq > 0 ? part.slice(0, eq).trim() : "";
      if (name === "")
        throw new ArchOptionError(
          `bad backend option "${part}": expected NAME=VALUE, e.g. --arch-opt apic=physflat`,
        );
      if (Object.hasOwn(out, name))
        throw new ArchOptionError(
          `backend option ${name} given twice ("${String(out[name])}" and "${part.slice(eq + 1).trim()}"): give it once`,
        );
      out[name] = part.slice(eq + 1).trim();
      last = name;
    }
  }
  return out;
}

/** Describe what a spec accepts, for error messages and `smpcall archs`. */
export function describeAccepted(spec: ArchOptionSpec): string {
  switch (spec.type) {
    case "enum":
      return spec.choices.join(" | ");
    case "integer":
      return `integer ${spec.min}..${spec.max}`;
    case "number":
      return `number ${spec.min}..${spec.max}`;
    case "boolean":
      return "true | false";
    case "cpulist":
      return "cpulist, e.g. 3,5-7";
  }
}

/**
 * Validate raw options against a schema and fill in defaults. Unknown names and bad values throw
 * {@link ArchOptionError} naming the option, the bad value and what is accepted.
 */
export function parseArchOptions(
  archName: string,
  schema: ArchOptionsSchema,
  raw: RawArchOptions = {},
): ArchOptionValues {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw))
    throw new ArchOptionError(
      `options for arch ${archName} must be an object of NAME: value, got ${describeValue(raw)}`,
    );
  const known = Object.keys(schema);
  for (const k of Object.keys(raw)) {
    if (!Object.hasOwn(schema, k)) {
      throw new ArchOptionError(
        `unknown option "${k}" for arch ${archName}; its options are: ${known.length ? known.join(", ") : "(none)"}`,
      );
    }
  }
  const out: ArchOptionValues = {};
  for (const [name, spec] of Object.entries(schema)) {
    const v = Object.hasOwn(raw, name) ? raw[name] : undefined;
    out[name] = v === undefined ? spec.default : coerce(archName, name, spec, v);
  }
  return out;
}

function coerce(
  arch: string,
  name: string,
  spec: ArchOptionSpec,
  v: string | number | boolean,
): string | number | boolean {
  const bad = (): never => {
    throw new ArchOptionError(
      `bad value "${String(v)}" for option ${name} of arch ${arch}: expected ${describeAccepted(spec)}`,
    );
  };
  const text = String(v).trim();
  switch (spec.type) {
    case "enum":
      return spec.choices.includes(text) ? text : bad();
    case "boolean":
      if (v === true || text === "true" || text === "1" || text === "on" || text === "yes") return true;
      if (v === false || text === "false" || text === "0" || text === "off" || text === "no") return false;
      return bad();
    case "integer": {
      const n = typeof v === "number" ? v : /^-?\d+$/.test(text) ? Number(text) : NaN;
      return Number.isInteger(n) && n >= spec.min && n <= spec.max ? n : bad();
    }
    case "number": {
      // Decimal notation only: "0x1", "1_0" or "" are not numbers a user meant.
      const n =
        typeof v === "number" ? v : /^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i.test(text) ? Number(text) : NaN;
      return Number.isFinite(n) && n >= spec.min && n <= spec.max ? n : bad();
    }
    case "cpulist":
      return /^(\d+(-\d+)?)(,\d+(-\d+)?)*$/.test(text) || text === "" ? text : bad();
  }
}

/** Turn a validated cpulist option into a mask for a machine of `nrCpus`; throws naming the option. */
export function cpulistOption(arch: string, name: string, value: string, nrCpus: number): CpuMask {
  try {
    return CpuMask.parse(nrCpus, value);
  } catch (e) {
    throw new ArchOptionError(
      `bad value "${value}" for option ${name} of arch ${arch}: ${(e as Error).message}`,
    );
  }
}
