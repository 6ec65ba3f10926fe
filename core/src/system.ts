// tsyringe needs the Reflect metadata polyfill before it loads: the core loads it, so hosts need not.
import "reflect-metadata";
import { container as rootContainer, type DependencyContainer } from "tsyringe";
import type { ArchIpi, FaultInjector } from "./arch/arch-ipi";
import type { ArchDescriptor } from "./arch/descriptor";
import type { Interconnect } from "./arch/interconnect";
import { parseArchOptions, type ArchOptionValues, type RawArchOptions } from "./arch/options";
import {
  ArchIpiToken,
  ArchOptionsToken,
  FaultInjectorToken,
  InterconnectToken,
  MachineToken,
  SmpHandlersToken,
  TraceToken,
} from "./arch/tokens";
import { ArchLoadError } from "./errors";
import { Machine, type MachineConfig, type RunOptions, type RunOutcome } from "./machine/machine";
import type { CpuCode } from "./machine/step";
import { Topology } from "./machine/topology";
import { SmpKernel, type KernelOptions } from "./kernel/smp";
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

  /** Run `program` on `cpu` (programs on a CPU run in order; see Machine.spawn). */
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
  const desc = config.arch;
  if (!desc || typeof desc.register !== "function")
    throw new ArchLoadError(
      "createSmpSystem needs an arch descriptor: load one with loadArch(name) or import it from its package",
    );
  const archOptions = parseArchOptions(desc.name, desc.options, config.archOptions);
  const topology = { ...desc.topology?.(archOptions), ...config.topology };
  desc.validate?.(archOptions, { cpus: config.cpus, topology: new Topology(config.cpus, topology) });
  const trace = config.trace instanceof TraceSink ? config.trace : new TraceSink(config.trace === true);
  const machine = new Machine({ ...config, topology, trace });
  const kernel = new SmpKernel(machine, config);
  const child = (config.container ?? rootContainer).createChildContainer();
  const interconnect: Interconnect = machine;
  const faults: FaultInjector = {
    chance: (p, tag) => machine.chooser.chance(p, tag),
    chooseInt: (n, tag) => machine.chooser.chooseInt(n, tag),
  };
  child.register(MachineToken, { useValue: machine });
  child.register(InterconnectToken, { useValue: interconnect });
  child.register(SmpHandlersToken, { useValue: kernel });
  child.register(TraceToken, { useValue: trace });
  child.register(FaultInjectorToken, { useValue: faults });
  child.register(ArchOptionsToken, { useValue: archOptions });
  desc.register(child, archOptions);
  if (!child.isRegistered(ArchIpiToken, false))
    throw new ArchLoadError(`arch ${desc.name} did not register ArchIpiToken in register()`);
  const arch = child.resolve(ArchIpiToken);
  kernel.attachArch(arch);
  machine.setInterruptHandler(
    (cpu, line) => arch.handleInterrupt(cpu, line),
    (line) => arch.lineName(line),
  );
  return new SmpSystem(machine, kernel, arch, desc, archOptions, child);
}
