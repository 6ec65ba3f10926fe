import { UsageError, describeValue } from "../errors";
import type { RawArchOptions } from "../arch/options";
import { KERNEL_PROFILE_NAMES, type KernelProfileName } from "../kernel/profile";
import { MAX_CPUS, MIN_CPUS } from "../machine/machine";

/**
 * Everything a replay needs, as one record: which scenario, policy, backend (with its options)
 * and kernel profile, the machine's size, the seed, the run's limits, and the choices made.
 * `smpcall explore` prints it as a schedule string (see {@link encodeSchedule}) and can save it
 * as a replay file (the same record as JSON).
 */
export interface ScheduleSpec {
  /** The scenario's name. */
  scenario: string;
  /** Absolute path of the scenario module, when it is not built in. */
  scenarioModule?: string;
  policy: string;
  /** The backend's name (its descriptor's `name`). */
  arch: string;
  /** Absolute path of the backend module, when it is an out-of-tree backend. */
  archModule?: string;
  /** Backend options as given (`--arch-opt`), by name. */
  archOptions: Record<string, string>;
  /** Kernel profile, when it is not the default (`6.1`); a string without one replays under 6.1. */
  kernel?: KernelProfileName;
  /** Idle mode (`mwait`, `poll`) when not the default `halt`. */
  idle?: string;
  /** Memory model (`tso`, `lkmm`) when not the default `sc`. */
  memory?: string;
  /** Barriers dropped (`--drop-barrier`), when any. */
  dropBarriers?: string[];
  cpus: number;
  calls: number;
  seed: number;
  /** Probability that allocating call data fails (1 = always). */
  allocFailRate: number;
  /** Events per run before it counts as a livelock. */
  maxSteps: number;
  /**
   * The bound on injected faults per run the schedule was made under (`fault-bound`): a dfs
   * search's bound, written when the run met a backend fault choice. Absent: unbounded (every
   * schedule made before the field existed; a run without fault choices does not need it).
   */
  faultBound?: number;
  /**
   * How the run ended when explore recorded it ({@link runEnd}): replay checks that it ends the
   * same way. Absent in schedules made before it existed (replay then cannot tell a changed run).
   */
  end?: string;
  /** The choices, in order. */
  choices: number[];
}

/** A decoded schedule string: the spec, and where each choice sits in the text. */
export interface DecodedSchedule extends ScheduleSpec {
  /** Character position (1-based) of each choice in the string, for messages. */
  choiceOffsets: number[];
  /** Character position (1-based) just past the last choice. */
  choicesEnd: number;
}

/** The `end` field's form: the run's status, its end time in ns and a base-36 digest ({@link runEnd}). */
const RUN_END = /^[a-z-]+\.\d+\.[0-9a-z]+$/;

/** Version tag the schedule string starts with. */
export const SCHEDULE_VERSION = "smp2";
/** The default of `maxSteps`, left out of schedule strings. */
export const DEFAULT_MAX_STEPS = 20_000;

/** A schedule string is malformed: says where (1-based character) and what is wrong. */
export class ScheduleFormatError extends UsageError {
  constructor(
    message: string,
    /** 1-based character position the message names. */
    readonly position: number,
  ) {
    super(message, "SMPCALL_USAGE");
  }
}

/** Field keys, in the order they are written. */
const KEYS = [
  "scenario",
  "scenario-module",
  "policy",
  "arch",
  "arch-module",
  "arch-opt",
  "kernel",
  "idle",
  "memory",
  "drop-barrier",
  "cpus",
  "calls",
  "seed",
  "alloc-fail",
  "max-steps",
  "fault-bound",
  "end",
  "n",
  "choices",
  "sum",
] as const;
const REPEATABLE = new Set<string>(["arch-opt", "drop-barrier"]);
const REQUIRED = ["scenario", "policy", "arch", "cpus", "calls", "seed", "n", "choices", "sum"];

/** Characters left as they are in a value: safe in a shell word, and not a separator. */
const SAFE = /[A-Za-z0-9._/@+:-]/;

/** Percent-encode `v` so it holds no `,` `=` `%` and nothing a shell would interpret. */
function esc(v: string): string {
  let out = "";
  for (const ch of v) {
    if (SAFE.test(ch)) out += ch;
    else for (const b of Buffer.from(ch, "utf8")) out += "%" + b.toString(16).toUpperCase().padStart(2, "0");
  }
  return out;
}

function one0(fields: Map<string, { value: string }[]>, k: string): string {
  return fields.get(k)?.[0].value ?? "?";
}

/** 32-bit FNV-1a of `text`, base 36: the schedule's checksum. */
export function scheduleChecksum(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(36);
}

/**
 * The schedule string of `spec`: `smp2,scenario=…,policy=…,arch=…,cpus=…,calls=…,seed=…,n=…,
 * choices=…,sum=…`, with `scenario-module`, `arch-module`, `arch-opt` (one per option, sorted),
 * `kernel`, `idle` (when not `halt`), `memory` (when not `sc`), `drop-barrier` (one per dropped
 * barrier, in the order given), `alloc-fail` (when not 1), `max-steps` (when not 20000), `fault-bound`
 * (the bound on injected faults, when the run was made under one and met a fault choice) and `end`
 * (how the recorded run ended) where they apply. A new optional field does not change the version
 * tag: a string without it decodes as before. Choices
 * are base 36, separated by dots; `n` counts them and `sum` is a checksum of everything before
 * it, so a truncated, over-long or altered string is refused. Values are percent-encoded where
 * needed, so the string is one shell word.
 */
export function encodeSchedule(spec: ScheduleSpec): string {
  const f: string[] = [SCHEDULE_VERSION];
  const put = (k: string, v: string | number) => f.push(`${k}=${esc(String(v))}`);
  put("scenario", spec.scenario);
  if (spec.scenarioModule !== undefined) put("scenario-module", spec.scenarioModule);
  put("policy", spec.policy);
  put("arch", spec.arch);
  if (spec.archModule !== undefined) put("arch-module", spec.archModule);
  for (const k of Object.keys(spec.archOptions).sort()) put("arch-opt", `${k}=${spec.archOptions[k]}`);
  if (spec.kernel !== undefined) put("kernel", spec.kernel);
  if (spec.idle !== undefined && spec.idle !== "halt") put("idle", spec.idle);
  if (spec.memory !== undefined && spec.memory !== "sc") put("memory", spec.memory);
  for (const b of spec.dropBarriers ?? []) put("drop-barrier", b);
  put("cpus", spec.cpus);
  put("calls", spec.calls);
  put("seed", spec.seed);
  if (spec.allocFailRate !== 1) put("alloc-fail", spec.allocFailRate);
  if (spec.maxSteps !== DEFAULT_MAX_STEPS) put("max-steps", spec.maxSteps);
  if (spec.faultBound !== undefined) put("fault-bound", spec.faultBound);
  if (spec.end !== undefined) put("end", spec.end);
  put("n", spec.choices.length);
  f.push(`choices=${spec.choices.map((c) => c.toString(36)).join(".")}`);
  const body = f.join(",");
  return `${body},sum=${scheduleChecksum(body)}`;
}

/** Raw arch options as the strings a schedule carries. */
export function archOptionStrings(raw: RawArchOptions | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(raw ?? {})) out[k] = String(v);
  return out;
}

/**
 * Decode a schedule string. Refuses, with one line naming the 1-based character position, a
 * string that is not one, truncated (fields or choices missing), over-long (text after the
 * checksum, more choices than `n` says) or corrupt (a bad field, a choice that is not base 36,
 * a checksum that does not match).
 */
export function decodeSchedule(input: string): DecodedSchedule {
  if (typeof input !== "string")
    throw new ScheduleFormatError(
      `bad schedule ${describeValue(input)}: expected a string starting "${SCHEDULE_VERSION}," as printed by smpcall explore`,
      1,
    );
  const text = input.trim();
  const fail = (pos: number, what: string): never => {
    throw new ScheduleFormatError(`bad schedule at character ${pos}: ${what}`, pos);
  };
  if (!text.startsWith(SCHEDULE_VERSION + ",")) {
    if (text.split("/").length === 7)
      fail(
        1,
        `this is an old-style schedule (scenario/policy/arch/…); run smpcall explore again for a ${SCHEDULE_VERSION} schedule, which carries everything the run needs`,
      );
    fail(1, `expected a string starting "${SCHEDULE_VERSION}," as printed by smpcall explore`);
  }
  const fields = new Map<string, { value: string; at: number }[]>();
  let pos = SCHEDULE_VERSION.length + 1;
  let sumAt = -1;
  let lastKey = -1;
  while (pos <= text.length) {
    let end = text.indexOf(",", pos);
    if (end < 0) end = text.length;
    const part = text.slice(pos, end);
    const eq = part.indexOf("=");
    const key = eq < 0 ? part : part.slice(0, eq);
    const ki = (KEYS as readonly string[]).indexOf(key);
    if (eq < 0 || ki < 0) {
      if (sumAt < 0 && end === text.length)
        fail(
          pos + 1,
          `truncated: the schedule ends inside a field ("${part.slice(0, 20)}"), before its checksum field`,
        );
      if (sumAt >= 0) fail(pos + 1, `over-long: unexpected text "${part.slice(0, 20)}" after the checksum`);
      fail(
        pos + 1,
        `"${part.slice(0, 20)}" is not a field (expected one of ${KEYS.join(", ")} as key=value)`,
      );
    }
    if (sumAt >= 0) fail(pos + 1, `over-long: field "${key}" after the checksum`);
    if (ki < lastKey || (ki === lastKey && !REPEATABLE.has(key)))
      fail(pos + 1, `field "${key}" is out of order or repeated`);
    lastKey = ki;
    const value = part.slice(eq + 1);
    const list = fields.get(key) ?? [];
    list.push({ value, at: pos + eq + 2 });
    fields.set(key, list);
    if (key === "sum") sumAt = pos;
    pos = end + 1;
  }
  const cut = fields.get("choices")?.[0];
  if (!fields.has("sum") && cut !== undefined && REQUIRED.every((k) => k === "sum" || fields.has(k))) {
    const got = cut.value === "" ? 0 : cut.value.split(".").length;
    fail(
      text.length + 1,
      `truncated: the schedule ends inside its choices (${got} of the ${one0(fields, "n")} declared) and its checksum field is missing`,
    );
  }
  for (const k of REQUIRED)
    if (!fields.has(k))
      fail(
        text.length + 1,
        `truncated: the schedule ends without its "${k}" field${k === "sum" ? " (its last field, the checksum)" : ""}`,
      );
  const one = (k: string) => fields.get(k)![0];
  const unesc = (k: string, f: { value: string; at: number }): string => {
    try {
      return decodeURIComponent(f.value);
    } catch {
      return fail(f.at, `field "${k}" has a bad %-escape`);
    }
  };
  const sum = one("sum");
  const body = text.slice(0, sumAt - 1);
  const num = (k: string, max: number, min = 0): number => {
    const f = one(k);
    if (!/^\d+$/.test(f.value) || Number(f.value) > max || Number(f.value) < min)
      fail(f.at, `field "${k}" is "${f.value}", expected an integer ${min}..${max}`);
    return Number(f.value);
  };
  const n = num("n", 1e9);
  // Choices: before the checksum, so a cut inside them names the choice where it ends.
  const ch = one("choices");
  const choices: number[] = [];
  const choiceOffsets: number[] = [];
  if (ch.value !== "") {
    let at = ch.at;
    for (const c of ch.value.split(".")) {
      if (!/^[0-9a-z]{1,8}$/.test(c))
        fail(at, `choice ${choices.length + 1} "${c.slice(0, 12)}" is not a base-36 number`);
      if (choices.length === n)
        fail(at, `over-long: choice ${choices.length + 1} is beyond the ${n} choices the schedule declares`);
      choices.push(parseInt(c, 36));
      choiceOffsets.push(at);
      at += c.length + 1;
    }
  }
  if (choices.length < n)
    fail(
      ch.at + ch.value.length,
      `truncated: ${choices.length} of the ${n} choices the schedule declares (the rest is missing)`,
    );
  if (sum.value !== scheduleChecksum(body))
    fail(
      sum.at,
      `corrupt: the checksum "${sum.value}" does not match the text before it (altered or cut and re-joined)`,
    );
  const alloc = fields.get("alloc-fail")?.[0];
  const allocFailRate = alloc === undefined ? 1 : Number(alloc.value);
  if (alloc !== undefined && !(/^[0-9.e-]+$/.test(alloc.value) && allocFailRate >= 0 && allocFailRate <= 1))
    fail(alloc.at, `field "alloc-fail" is "${alloc.value}", expected a probability 0..1`);
  // No prototype: an option named __proto__ is kept as a name (and refused as unknown by the
  // backend's options), not swallowed by the assignment.
  const archOptions: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const f of fields.get("arch-opt") ?? []) {
    const v = unesc("arch-opt", f);
    const eq = v.indexOf("=");
    if (eq <= 0) fail(f.at, `field "arch-opt" is "${v}", expected NAME=VALUE`);
    const name = v.slice(0, eq);
    // Explore writes each option once: a second value would silently replace the first.
    if (Object.prototype.hasOwnProperty.call(archOptions, name))
      fail(f.at, `field "arch-opt" names option ${name} twice`);
    archOptions[name] = v.slice(eq + 1);
  }
  const opt = (k: string) => {
    const f = fields.get(k)?.[0];
    return f === undefined ? undefined : unesc(k, f);
  };
  const out: DecodedSchedule = {
    scenario: unesc("scenario", one("scenario")),
    policy: unesc("policy", one("policy")),
    arch: unesc("arch", one("arch")),
    archOptions,
    // The least a machine, a run and a step budget can be: explore never writes less.
    cpus: num("cpus", MAX_CPUS, MIN_CPUS),
    calls: num("calls", 1e6, 1),
    seed: num("seed", 4294967295),
    allocFailRate,
    maxSteps: fields.has("max-steps") ? num("max-steps", 1e9, 1) : DEFAULT_MAX_STEPS,
    choices,
    choiceOffsets,
    choicesEnd: ch.at + ch.value.length,
  };
  if (fields.has("fault-bound")) out.faultBound = num("fault-bound", 1_000_000);
  const sm = opt("scenario-module");
  if (sm !== undefined) out.scenarioModule = sm;
  const am = opt("arch-module");
  if (am !== undefined) out.archModule = am;
  const k = opt("kernel");
  if (k !== undefined) {
    if (!(KERNEL_PROFILE_NAMES as readonly string[]).includes(k))
      fail(
        fields.get("kernel")![0].at,
        `field "kernel" is "${k}", expected one of ${KERNEL_PROFILE_NAMES.join(", ")}`,
      );
    out.kernel = k as KernelProfileName;
  }
  const idle = opt("idle");
  if (idle !== undefined) out.idle = idle;
  const memory = opt("memory");
  if (memory !== undefined) out.memory = memory;
  const end = fields.get("end")?.[0];
  if (end !== undefined) {
    if (!RUN_END.test(end.value))
      fail(
        end.at,
        `field "end" is "${end.value.slice(0, 40)}", expected STATUS.TIME.DIGEST as explore writes it`,
      );
    out.end = end.value;
  }
  const drops = fields.get("drop-barrier");
  if (drops !== undefined) out.dropBarriers = drops.map((f) => unesc("drop-barrier", f));
  return out;
}
