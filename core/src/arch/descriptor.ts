import type { DependencyContainer } from "tsyringe";
import { ArchOptionError } from "../errors";
import type { IdleMode } from "../kernel/idle-loop";
import type { Topology, TopologyOptions } from "../machine/topology";
import type { ArchOptionsSchema, ArchOptionValues } from "./options";

/** What becomes of an IPI raised at an offline CPU (see {@link ArchCapabilities.offlineDelivery}). */
export type OfflineDelivery = "pending" | "dropped";

/** What a backend's hardware can do or suffer: the conformance kit runs or skips checks by it. */
export interface ArchCapabilities {
  /** One hardware operation can reach several CPUs (APIC logical/cluster mode, SBI masks, ...). */
  readonly multicast: boolean;
  /** Deliveries can fail transiently (NACK, would-block) and the backend retries them. */
  readonly transientFaults: boolean;
  /** Deliveries can fail permanently (CPU in error) and the backend reports it. */
  readonly permanentFaults: boolean;
  /**
   * An IPI raised at an offline CPU: stays pending until it is back and is taken then
   * ("pending"), or is dropped (at once, or when the CPU comes back, without being handled). A
   * function of the options where platforms differ. The conformance kit sends a raw IPI to an
   * offline CPU and checks it is taken once when the CPU is back for "pending", never for
   * "dropped".
   */
  readonly offlineDelivery: OfflineDelivery | ((options: ArchOptionValues) => OfflineDelivery);
  /**
   * The statistics key counting hardware acknowledgements (EOI, msgclr, queue-head advance), and
   * the key counting the interrupts that need one (default: every interrupt the machine saw taken).
   * The conformance kit checks they are equal.
   */
  readonly ackStatistic?: string;
  readonly ackedInterruptStatistic?: string;
  /** A statistics key that must equal the number of interrupt-line raises (`ipi_raise` events). */
  readonly raiseStatistic?: string;
  /**
   * A statistics key counting the hardware signals the backend sent, one per target CPU signalled
   * (a vector delivered by an ICR write, a doorbell, a mondo queued, a SIGP order). The run report
   * shows it as "hardware signals" beside the core's "IPIs requested": they differ where the
   * hardware or the backend's own latches absorb requests, or one request reaches more CPUs.
   */
  readonly signalStatistic?: string;
  /** Options that inject transient failures the backend must retry (with `transientFaults`). */
  readonly transientFaultOptions?: Readonly<Record<string, string | number | boolean>>;
  /** A cpulist option naming CPUs that fail permanently (with `permanentFaults`). */
  readonly permanentFaultOption?: string;
  /** A statistics key counting retries of transient failures (with `transientFaults`). */
  readonly retryStatistic?: string;
  /**
   * The least time from a send to the target taking its interrupt that the backend models
   * (before the machine's delivery jitter), in ns, or how to compute it from the options. The
   * kit fails an interrupt taken earlier; undeclared means "more than 0": an interrupt taken at
   * the instant of its send fails unless the backend declares 0.
   */
  readonly minDeliveryLatencyNs?: number | ((options: ArchOptionValues) => number);
  /**
   * Busy targets (a hardware queue that stays full, a target that always answers busy): the most
   * retries one send makes before the backend gives up and reports the target (an `arch-error`
   * naming it), or how to compute it from the options. With `busyTargetOptions` the kit keeps a
   * target busy for good and checks the send ends in a report within this bound.
   */
  readonly busyRetryBound?: number | ((options: ArchOptionValues) => number);
  /** Options for the busy-target check (e.g. a short hardware queue and a small retry limit). */
  readonly busyTargetOptions?: Readonly<Record<string, string | number | boolean>>;
}

/**
 * A capability that may depend on the options (a number, or a function of the options),
 * evaluated for `options`; undefined when not declared.
 */
export function capabilityValue(
  value: number | ((options: ArchOptionValues) => number) | undefined,
  options: ArchOptionValues,
): number | undefined {
  return typeof value === "function" ? value(options) : value;
}

/** `capabilities.offlineDelivery` for `options`. */
export function offlineDeliveryFor(d: ArchDescriptor, options: ArchOptionValues): OfflineDelivery {
  const v = d.capabilities.offlineDelivery;
  return typeof v === "function" ? v(options) : v;
}

/** The capabilities as plain data for `options` (values that depend on options evaluated): for listings. */
export function capabilitiesFor(d: ArchDescriptor, options: ArchOptionValues): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(d.capabilities))
    out[k] = typeof v === "function" ? (v as (o: ArchOptionValues) => unknown)(options) : v;
  return out;
}

/** Facts about the machine a backend is being set up for (for `validate`). */
export interface ArchMachineInfo {
  readonly cpus: number;
  /** The machine's topology (after the backend's {@link ArchDescriptor.topology} defaults). */
  readonly topology: Topology;
}

/**
 * The one thing a backend module exports (as `descriptor`, or as its default export): its name,
 * what it models, its options, its capabilities, and how to register it in a machine's child
 * container.
 */
export interface ArchDescriptor {
  /** Short name used with `--arch` (package `@smpcall/arch-<name>`). */
  readonly name: string;
  /** One line on what the backend models. */
  readonly description: string;
  /** Options schema (`--arch-opt name=value`). */
  readonly options: ArchOptionsSchema;
  readonly capabilities: ArchCapabilities;
  /**
   * The tracepoints this architecture's kernel code has, among the events smpcall records (x86:
   * its irq_vectors events such as `call_function_single_entry`; arm and arm64: `ipi_raise`,
   * `ipi_entry`, `ipi_exit`). A kernel profile's ftrace export keeps only these and the generic
   * kernel's own. Undefined: `ipi_raise`, `ipi_entry` and `ipi_exit`. The machine's `ipi_raise` is
   * one record per target; an arch whose kernel traces one per send with the whole mask lists
   * `arch_ipi_raise` (`ARCH_IPI_RAISE`, which its backend emits) instead.
   */
  readonly tracepoints?: readonly string[];
  /**
   * The idle modes this architecture's kernel has, for `--idle` (`mwait` is x86's MWAIT idle; other
   * architectures' kernels have no such sleep). A run asking for another mode is refused with an
   * ArchOptionError. Absent: `halt` and `poll`.
   */
  readonly idleModes?: readonly IdleMode[];
  /**
   * Whether the architecture defines TIF_POLLING_NRFLAG, so an idle CPU can advertise that it
   * polls need_resched and a call to it is made without an IPI (6.1: x86, powerpc and sparc64 do;
   * arm64, riscv and s390 do not: there every call to an idle CPU sends an IPI). Absent: true.
   */
  readonly idlePollingFlag?: boolean;
  /**
   * Check options against the machine (e.g. "flat APIC mode is limited to 8 CPUs"); throw an
   * `ArchOptionError` with a clear message. Optional.
   */
  validate?(options: ArchOptionValues, machine: ArchMachineInfo): void;
  /**
   * Topology defaults this architecture implies (e.g. x86 numbers CPUs cores first); the
   * machine's own `topology` settings override them. Optional.
   */
  topology?(options: ArchOptionValues): TopologyOptions;
  /**
   * The fence the backend issues before it raises a call-function IPI, so the queue writes are
   * visible before the IPI lands, by a stable name (x2APIC: `x2apic:weak_wrmsr_fence`, as its
   * ICR `wrmsr` is not serialising), or null when the send is ordered after earlier stores by
   * itself (an MMIO write, a hypercall). Under a weak memory model `--drop-barrier NAME` removes
   * it. Optional: absent means null.
   */
  ipiSendFence?(options: ArchOptionValues, cpus: number): string | null;
  /**
   * Register the backend's `ArchIpiToken` (and whatever else it needs) in `container`, the
   * machine's child container. The machine facilities are already registered there.
   */
  register(container: DependencyContainer, options: ArchOptionValues): void;
}

/** The idle modes of `d`'s architecture: its `idleModes`, or halt and poll when it declares none. */
export function archIdleModes(d: ArchDescriptor): readonly IdleMode[] {
  return d.idleModes ?? ["halt", "poll"];
}

/**
 * Refuse an idle mode the kernel of `d`'s architecture does not have (its `idleModes`, or halt and
 * poll when it declares none) with an ArchOptionError naming the modes it has; `label` names `d`.
 */
export function checkArchIdleMode(d: ArchDescriptor, label: string, idle: IdleMode): void {
  const modes = archIdleModes(d);
  if (!modes.includes(idle))
    throw new ArchOptionError(
      `${label} has no idle mode ${idle} (its kernel has: ${modes.join(", ")})${idle === "mwait" ? "; MWAIT idle is x86's" : ""}: pick one of those with --idle / the idle option`,
    );
}

/** Does `x` look like an ArchDescriptor? (Used when loading modules.) */
export function isArchDescriptor(x: unknown): x is ArchDescriptor {
  if (typeof x !== "object" || x === null) return false;
  const d = x as Partial<ArchDescriptor>;
  return (
    typeof d.name === "string" &&
    d.name.length > 0 &&
    typeof d.description === "string" &&
    typeof d.options === "object" &&
    d.options !== null &&
    typeof d.register === "function" &&
    typeof d.capabilities === "object"
  );
}
