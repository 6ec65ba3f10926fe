// tsyringe needs the Reflect metadata polyfill before it loads: the core loads it, so hosts need not.
import "reflect-metadata";
import { container as rootContainer, type DependencyContainer } from "tsyringe";
import type { ArchIpi, FaultInjector } from "./arch/arch-ipi";
import { checkArchIdleMode, type ArchDescriptor } from "./arch/descriptor";
import type { Interconnect } from "./arch/interconnect";
import { parseArchOptions, type ArchOptionValues, type RawArchOptions } from "./arch/options";
import {
  ArchIpiToken,
  ArchOptionsToken,
  ArchWarningsToken,
  FaultInjectorToken,
  InterconnectToken,
  MachineToken,
  SmpHandlersToken,
  TraceToken,
} from "./arch/tokens";
import {
  ArchLoadError,
  InvalidArgumentError,
  SmpcallError,
  UserCodeError,
  describeThrown,
  describeValue,
} from "./errors";
import { archLabel, checkDescriptor } from "./arch/loader";
import {
  checkBoolean,
  checkChoice,
  checkInteger,
  checkKnownKeys,
  checkNumber,
  checkObject,
} from "./validate";
import { DEFAULT_COST_MODEL } from "./machine/cost-model";
import {
  MAX_CPUS,
  MIN_CPUS,
  Machine,
  type MachineConfig,
  type RunOptions,
  type RunOutcome,
} from "./machine/machine";
import type { CpuCode } from "./machine/step";
import { Topology } from "./machine/topology";
import { kernelProfile } from "./kernel/profile";
import { SmpKernel, type KernelOptions } from "./kernel/smp";
import { IDLE_MODES } from "./kernel/idle-loop";
import { MEMORY_MODELS } from "./memory/model";
import { TraceSink } from "./trace/trace-sink";

/** Everything needed to build a machine with a kernel and a backend. */
export interface SystemConfig extends Omit<MachineConfig, "trace">, KernelOptions {
  /** The backend (from `loadArch` or imported directly). Core names no concrete backend. */
  arch: ArchDescriptor;
  /** Backend options, validated against its schema. */
  archOptions?: RawArchOptions;
  /** Collect a trace: true, or a sink of your own. Default off. */
  trace?: boolean | TraceSink;
  /** Parent container (default: tsyringe's root). The system uses a child of it. */
  container?: DependencyContainer;
}

/**
 * One simulated machine with kernel/smp.c and an arch backend, wired through a tsyringe child
 * container: the machine facilities are registered there, then the backend registers itself.
 */
export class SmpSystem {
  constructor(
    readonly machine: Machine,
    readonly kernel: SmpKernel,
    readonly arch: ArchIpi,
    readonly descriptor: ArchDescriptor,
    readonly archOptions: ArchOptionValues,
    readonly container: DependencyContainer,
  ) {}

  /** The trace sink (records are kept only if tracing is on). */
  get trace(): TraceSink {
    return this.machine.trace;
  }

  /**
   * Run `program` (a generator object: call your `function*`) on `cpu` (programs on a CPU run in
   * order; see Machine.spawn). Throws InvalidArgumentError for a CPU that does not exist or a
   * program that is not a generator.
   */
  spawn(cpu: number, program: CpuCode<unknown>): this {
    this.machine.spawn(cpu, program);
    return this;
  }

  /** Run the machine (see Machine.run). */
  run(options?: RunOptions): RunOutcome {
    return this.machine.run(options);
  }
}

/** Build a machine, its kernel and the chosen backend. Throws UsageError subclasses on bad options. */
export function createSmpSystem(config: SystemConfig): SmpSystem {
  checkSystemConfig(config);
  const desc = config.arch;
  // An object that is almost a descriptor: say which field is wrong.
  if (typeof desc === "object" && desc !== null && !Array.isArray(desc))
    checkDescriptor(desc, archLabel(desc));
  if (!desc || typeof desc.register !== "function")
    throw new ArchLoadError(
      "createSmpSystem needs an arch descriptor: load one with loadArch(name) or import it from its package",
    );
  checkDescriptor(desc, archLabel(desc));
  const label = archLabel(desc);
  if (config.archOptions !== undefined) checkObject("archOptions", config.archOptions);
  const archOptions = parseArchOptions(desc.name, desc.options, config.archOptions);
  const archTopology = foreignSync(label, "topology()", () => desc.topology?.(archOptions));
  if (archTopology !== undefined && archTopology !== null)
    checkArchTopology(label, config.cpus, archTopology);
  const topology = {
    ...archTopology,
    ...config.topology,
  };
  const machineTopology = new Topology(config.cpus, topology);
  const verdict = foreignSync(label, "validate()", () =>
    desc.validate?.(archOptions, { cpus: config.cpus, topology: machineTopology }),
  );
  // A refusal returned instead of thrown would be accepted without a word.
  if (verdict !== undefined)
    throw new ArchLoadError(
      `${label}: validate() returned ${describeValue(verdict)}: it accepts by returning nothing and refuses by throwing an ArchOptionError`,
    );
  if (config.idle !== undefined) checkArchIdleMode(desc, label, config.idle);
  const trace = config.trace instanceof TraceSink ? config.trace : new TraceSink(config.trace === true);
  const machine = new Machine({ ...config, topology, trace });
  const fence = foreignSync(
    label,
    "ipiSendFence()",
    () => desc.ipiSendFence?.(archOptions, config.cpus) ?? null,
  );
  if (fence !== null && (typeof fence !== "string" || !/^[\w.:-]+$/.test(fence)))
    throw new ArchLoadError(
      `${label}: ipiSendFence() returned ${describeValue(fence)}, not a barrier name (letters, digits, _ . : -) or null`,
    );
  const kernel = new SmpKernel(machine, config, fence, desc.idlePollingFlag ?? true);
  const child = (config.container ?? rootContainer).createChildContainer();
  const interconnect: Interconnect = machine;
  const faults: FaultInjector = {
    // A backend's fault goes to the chooser's fault() when it has one (the explorer bounds them).
    chance: (p, tag) => {
      const c = machine.chooser;
      return c.fault !== undefined ? c.fault(p, tag) : c.chance(p, tag);
    },
    chooseInt: (n, tag) => machine.chooser.chooseInt(n, tag),
  };
  child.register(MachineToken, { useValue: machine });
  child.register(InterconnectToken, { useValue: interconnect });
  child.register(SmpHandlersToken, { useValue: kernel });
  child.register(ArchWarningsToken, { useValue: kernel });
  child.register(TraceToken, { useValue: trace });
  child.register(FaultInjectorToken, { useValue: faults });
  child.register(ArchOptionsToken, { useValue: archOptions });
  foreignSync(label, "register()", () => desc.register(child, archOptions));
  if (!child.isRegistered(ArchIpiToken, false))
    throw new ArchLoadError(`arch ${desc.name} did not register ArchIpiToken in register()`);
  const arch = foreign(label, "resolving ArchIpiToken", () => child.resolve(ArchIpiToken));
  for (const method of ARCH_IPI_METHODS)
    if (typeof arch !== "object" || arch === null || typeof arch[method] !== "function")
      throw new ArchLoadError(
        `${label} registered ${describeValue(arch)} as ArchIpiToken, which has no ${method}() method: register a class implementing ArchIpi`,
      );
  kernel.attachArch(arch, label);
  machine.setInterruptHandler(
    (cpu, line) => arch.handleInterrupt(cpu, line),
    (line) => {
      const name = arch.lineName(line);
      return typeof name === "string" ? name : `line ${line}`;
    },
    label,
  );
  return new SmpSystem(machine, kernel, arch, desc, archOptions, child);
}

/** The methods every backend implements (checked once when the system is built). */
const ARCH_IPI_METHODS = [
  "sendCallFunctionIpiMask",
  "sendCallFunctionSingleIpi",
  "sendRescheduleIpi",
  "handleInterrupt",
  "lineName",
  "statistics",
] as const;

/** Every key of a {@link SystemConfig} (a missing one is a compile error here). */
const SYSTEM_CONFIG_KEYS: Record<keyof SystemConfig, true> = {
  arch: true,
  archOptions: true,
  trace: true,
  container: true,
  cpus: true,
  seed: true,
  topology: true,
  cost: true,
  chooser: true,
  offlineAtBoot: true,
  kernel: true,
  lockdep: true,
  csdLockWaitDebug: true,
  idle: true,
  csdLockTimeoutMs: true,
  watchdogResendIpi: true,
  memory: true,
  dropBarriers: true,
};

/**
 * Validate a system config once, at entry: wrong types and ranges, and unknown keys (a typo such
 * as `seeed` would otherwise be ignored), throw InvalidArgumentError.
 */
export function checkSystemConfig(config: SystemConfig): void {
  checkObject("the createSmpSystem config", config);
  checkKnownKeys("createSmpSystem config key", config, Object.keys(SYSTEM_CONFIG_KEYS));
  if (
    typeof config.cpus !== "number" ||
    !Number.isInteger(config.cpus) ||
    config.cpus < MIN_CPUS ||
    config.cpus > MAX_CPUS
  )
    throw new InvalidArgumentError(
      `a machine has ${MIN_CPUS}..${MAX_CPUS} CPUs, got ${describeValue(config.cpus)}`,
    );
  if (config.seed !== undefined) checkInteger("seed", config.seed, 0, 4294967295);
  if (config.idle !== undefined) checkChoice("idle", config.idle, IDLE_MODES);
  if (config.kernel !== undefined) kernelProfile(config.kernel);
  if (config.lockdep !== undefined) checkBoolean("lockdep", config.lockdep);
  if (config.csdLockWaitDebug !== undefined) checkBoolean("csdLockWaitDebug", config.csdLockWaitDebug);
  if (config.csdLockTimeoutMs !== undefined)
    checkNumber("csdLockTimeoutMs", config.csdLockTimeoutMs, 0, 3_600_000);
  if (config.memory !== undefined) checkChoice("memory", config.memory, MEMORY_MODELS);
  if (
    config.dropBarriers !== undefined &&
    (!Array.isArray(config.dropBarriers) || config.dropBarriers.some((b) => typeof b !== "string"))
  )
    throw new InvalidArgumentError(
      `dropBarriers must be an array of barrier names, got ${describeValue(config.dropBarriers)}`,
    );
  if (config.watchdogResendIpi !== undefined) checkBoolean("watchdogResendIpi", config.watchdogResendIpi);
  if (config.trace !== undefined && typeof config.trace !== "boolean" && !(config.trace instanceof TraceSink))
    throw new InvalidArgumentError(
      `trace must be true, false or a TraceSink, got ${describeValue(config.trace)}`,
    );
  if (config.topology !== undefined) {
    checkObject("topology", config.topology);
    checkKnownKeys("topology option", config.topology, [
      "threadsPerCore",
      "coresPerPackage",
      "packagesPerNode",
      "numbering",
    ]);
  }
  if (config.cost !== undefined) {
    checkObject("cost", config.cost);
    checkKnownKeys("cost model figure", config.cost, Object.keys(DEFAULT_COST_MODEL));
  }
  if (
    config.container !== undefined &&
    (typeof config.container !== "object" ||
      config.container === null ||
      typeof config.container.createChildContainer !== "function")
  )
    throw new InvalidArgumentError(
      `container must be a tsyringe DependencyContainer, got ${describeValue(config.container)}`,
    );
}

/** Run a backend's own code outside the run loop; what it throws (but our typed errors) names it. */
/**
 * {@link foreign} for a descriptor hook that must return at once: a Promise (an `async` hook)
 * would do its work, or throw, after the system is built; it is refused (its rejection handled).
 */
function foreignSync<T>(label: string, what: string, fn: () => T): T {
  const out = foreign(label, what, fn);
  if (typeof (out as { then?: unknown } | null)?.then === "function") {
    (out as unknown as Promise<unknown>).then(undefined, () => undefined);
    throw new ArchLoadError(
      `${label}: ${what} returned a Promise: descriptor hooks run synchronously while the system is built (remove async)`,
    );
  }
  return out;
}

/** The topology a backend's `topology()` returned: an object the machine's {@link Topology} takes. */
function checkArchTopology(label: string, cpus: number, t: unknown): void {
  if (typeof t !== "object" || t === null || Array.isArray(t))
    throw new ArchLoadError(
      `${label}: topology() returned ${describeValue(t)}, not an object of topology settings (threadsPerCore, coresPerPackage, packagesPerNode, numbering)`,
    );
  try {
    new Topology(cpus, t);
  } catch (e) {
    if (e instanceof InvalidArgumentError)
      throw new ArchLoadError(`${label}: topology() returned a bad topology: ${e.message}`);
    throw e;
  }
}

function foreign<T>(label: string, what: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof SmpcallError) throw e;
    throw new UserCodeError(`${label}: ${what} threw ${describeThrown(e)}`, -1, label, { cause: e });
  }
}
