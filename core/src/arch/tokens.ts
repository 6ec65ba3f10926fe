import type { InjectionToken } from "tsyringe";
import type { Machine } from "../machine/machine";
import type { TraceSink } from "../trace/trace-sink";
import type { ArchIpi, ArchWarnings, FaultInjector, SmpHandlers } from "./arch-ipi";
import type { ArchOptionValues } from "./options";
import type { Interconnect } from "./interconnect";

/**
 * Injection tokens. A backend's classes take what they need in their constructors with
 * `@inject(Token)`; the system registers all of these in the machine's child container.
 */
/** The simulated machine: CPUs, online mask, topology, clock (`now`), cost model. */
export const MachineToken: InjectionToken<Machine> = Symbol.for("smpcall.Machine");
/** Raising interrupt lines at CPUs, and hardware timers. */
export const InterconnectToken: InjectionToken<Interconnect> = Symbol.for("smpcall.Interconnect");
/** The core's generic handlers, for the receive side. */
export const SmpHandlersToken: InjectionToken<SmpHandlers> = Symbol.for("smpcall.SmpHandlers");
/** Kernel-style warnings from arch code (WARN in a send path), into the kernel's warning log. */
export const ArchWarningsToken: InjectionToken<ArchWarnings> = Symbol.for("smpcall.ArchWarnings");
/** The trace sink, for arch tracepoints (check `enabled` first). */
export const TraceToken: InjectionToken<TraceSink> = Symbol.for("smpcall.Trace");
/** Seeded fault decisions. */
export const FaultInjectorToken: InjectionToken<FaultInjector> = Symbol.for("smpcall.FaultInjector");
/** The backend's validated options (defaults filled in). */
export const ArchOptionsToken: InjectionToken<ArchOptionValues> = Symbol.for("smpcall.ArchOptions");
/** What a backend registers: its ArchIpi implementation. */
export const ArchIpiToken: InjectionToken<ArchIpi> = Symbol.for("smpcall.ArchIpi");
