import {
  ARCH_ENV_VAR,
  ArchLoadError,
  DEFAULT_ARCH,
  UsageError,
  chooseArchSpec,
  listArchNames,
  loadArch,
  parseArchOptionPairs,
  MAX_CPUS,
  MIN_CPUS,
  DEFAULT_KERNEL_PROFILE,
  KERNEL_PROFILE_NAMES,
  kernelProfile,
  IDLE_MODES,
  MEMORY_MODELS,
  machineBarrierNames,
  parseArchOptions,
  type ArchDescriptor,
  type MemoryModelName,
  type IdleMode,
  type KernelProfileName,
  type RawArchOptions,
} from "@smpcall/core";
import { Option } from "commander";
import type { CliIo } from "./io";

/** Parse an integer flag in [min, max]; throws UsageError naming the flag, the value and the range. */
export function parseIntOption(flag: string, text: string, min: number, max: number): number {
  const t = String(text).trim();
  const n = /^-?\d+$/.test(t) ? Number(t) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(`bad ${flag} "${text}": expected an integer ${min}..${max}`);
  }
  return n;
}

/** A probability flag (`--alloc-fail 0.5`): a decimal number 0..1; throws UsageError naming the flag. */
export function parseProbability(flag: string, text: string): number {
  const t = String(text).trim();
  const p = /^(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i.test(t) ? Number(t) : NaN;
  if (!(p >= 0 && p <= 1)) throw new UsageError(`bad ${flag} "${text}": expected a probability 0..1`);
  return p;
}

/** `--cpus N`: 2..8192. */
export function parseCpus(text: string): number {
  return parseIntOption("--cpus", text, MIN_CPUS, MAX_CPUS);
}

/** `--seed S`: an integer 0..4294967295. */
export function parseSeed(text: string): number {
  return parseIntOption("--seed", text, 0, 4294967295);
}

/** Parse a choice flag; throws UsageError listing the choices. */
export function parseChoice<T extends string>(flag: string, text: string, choices: readonly T[]): T {
  if ((choices as readonly string[]).includes(text)) return text as T;
  throw new UsageError(`bad ${flag} "${text}": choose one of ${choices.join(", ")}`);
}

/**
 * The `--kernel 6.1|mainline` option (run, explore, replay, conform); `fallback` is its default
 * (null: none, the flag is undefined when not given), `help` its help text.
 */
export function kernelOption(
  fallback: string | null = DEFAULT_KERNEL_PROFILE,
  help = `kernel release to behave as where releases differ: ${KERNEL_PROFILE_NAMES.map((k) => `${k} = ${kernelProfile(k).description}`).join("; ")}`,
): Option {
  const o = new Option("--kernel <profile>", help).choices(KERNEL_PROFILE_NAMES);
  return fallback === null ? o : o.default(fallback);
}

/** Parse `--kernel`; throws UsageError listing the profiles. */
export function parseKernel(text: string): KernelProfileName {
  return parseChoice("--kernel", text, KERNEL_PROFILE_NAMES);
}

/** Help text of `--idle` (run, explore, replay, conform). */
export const IDLE_HELP = `how idle CPUs sleep: ${IDLE_MODES.join(", ")} (halt polls only between halts; mwait polls while asleep too, so single calls wake it without an IPI; poll never sleeps)`;

/** Parse `--idle`: undefined stays undefined (the command's default applies). */
export function parseIdle(text: string | undefined): IdleMode | undefined {
  return text === undefined ? undefined : parseChoice("--idle", text, IDLE_MODES);
}

/** Help text of `--memory` (run, explore). */
export const MEMORY_HELP = `memory model of the kernel's shared state: ${MEMORY_MODELS.join(", ")} (sc: every access visible at once; tso: x86 store buffers; lkmm: weak, per-location histories and views, in the spirit of the Linux-kernel memory model; docs/memory-model.md)`;

/** Help text of `--drop-barrier` (run, explore). */
export const DROP_BARRIER_HELP =
  "remove one named barrier for an experiment (repeatable; smpcall explore --barriers lists them)";

/** Parse `--memory`: undefined stays undefined (sc applies). */
export function parseMemory(text: string | undefined): MemoryModelName | undefined {
  return text === undefined ? undefined : parseChoice("--memory", text, MEMORY_MODELS);
}

/** Check `--drop-barrier` names against the machine's barriers (the backend may add a send fence). */
export function parseDropBarriers(
  list: readonly string[] | undefined,
  arch: ArchDescriptor,
  archOptions: RawArchOptions,
  cpus: number,
): string[] {
  if (list === undefined || list.length === 0) return [];
  const names = machineBarrierNames(arch, parseArchOptions(arch.name, arch.options, archOptions), cpus);
  for (const n of list)
    if (!names.includes(n))
      throw new UsageError(
        `bad --drop-barrier "${n}": the barriers of this machine (backend ${arch.name}) are ${names.join(", ")}`,
      );
  return [...list];
}

/** Collect a repeatable flag's values (commander `argParser` helper). */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** `--arch-opt k=v` pairs (repeatable, or comma-separated). */
export function parseArchOptPairs(list: readonly string[] | undefined): RawArchOptions {
  return parseArchOptionPairs(list ?? []);
}

/**
 * The backend for this invocation: `--arch`, else $SMPCALL_ARCH, else generic. A name resolves
 * to `@smpcall/arch-<name>`; a path (has `/` or ends in .js) is loaded as a module from io.cwd.
 * A backend named by $SMPCALL_ARCH that cannot be loaded is refused saying it came from there
 * (the command line names none).
 */
export function resolveArchDescriptor(spec: string | undefined, io: CliIo): ArchDescriptor {
  if (spec !== undefined && spec.trim() === "")
    throw new UsageError(
      `bad --arch "${spec}": give a backend name (${listArchNames().join(", ")}) or a module path like ./my-arch.js`,
    );
  const chosen = chooseArchSpec(spec, io.env);
  try {
    return loadArch(chosen, io.cwd);
  } catch (e) {
    if (spec !== undefined || chosen === DEFAULT_ARCH || !(e instanceof UsageError)) throw e;
    const [first, ...rest] = e.message.split("\n");
    throw new ArchLoadError(
      [`${first} (from $${ARCH_ENV_VAR}: set it to one, or unset it)`, ...rest].join("\n"),
      { cause: e },
    );
  }
}
