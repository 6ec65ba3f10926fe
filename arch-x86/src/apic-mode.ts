import { ArchOptionError, type Topology } from "@smpcall/core";
import { maxApicId } from "./apic-id";

/** How the local APICs are addressed (Linux's apic driver). */
export type ApicMode = "flat" | "physflat" | "x2apic-cluster" | "x2apic-phys";

/** The `apic` option: a mode, or `auto` (Linux's choice from the CPU count). */
export type ApicOption = "auto" | ApicMode;

/** xAPIC flat logical mode: one bit of an 8-bit logical ID per CPU. */
export const FLAT_MAX_CPUS = 8;
/** xAPIC physical mode: 8-bit APIC IDs, 0xff being broadcast, so the highest usable ID is 0xfe. */
export const XAPIC_MAX_APIC_ID = 0xfe;
/** x2APIC cluster mode: 16 logical IDs per cluster. */
export const X2APIC_CLUSTER_SIZE = 16;
/** KVM PV IPI: one hypercall carries a 128-bit bitmap of APIC IDs from a base. */
export const PV_IPI_WINDOW = 128;

/**
 * Resolve `auto`: flat up to 8 CPUs, else x2APIC cluster. That is Linux's pick for a machine with
 * no x2APIC up to 8 CPUs and with x2APIC and interrupt remapping above; Linux itself decides by the
 * hardware (x2APIC without interrupt remapping: physical; no x2APIC above 8 CPUs: physflat).
 */
export function resolveApicMode(option: ApicOption, cpus: number): ApicMode {
  return option === "auto" ? (cpus <= FLAT_MAX_CPUS ? "flat" : "x2apic-cluster") : option;
}

/** Is this an xAPIC (MMIO ICR with a delivery-status busy-wait) mode? */
export function isXapic(mode: ApicMode): boolean {
  return mode === "flat" || mode === "physflat";
}

/** Refuse a mode the machine is too big for, saying what to use instead. */
export function validateApicMode(option: ApicOption, cpus: number, topology: Topology): void {
  const mode = resolveApicMode(option, cpus);
  if (mode === "flat" && cpus > FLAT_MAX_CPUS) {
    throw new ArchOptionError(
      `apic=flat (xAPIC flat logical mode) addresses at most ${FLAT_MAX_CPUS} CPUs, this machine has ${cpus}: use apic=physflat, x2apic-cluster or x2apic-phys (or auto)`,
    );
  }
  const top = mode === "physflat" ? maxApicId(topology) : 0;
  if (top > XAPIC_MAX_APIC_ID) {
    throw new ArchOptionError(
      `apic=physflat (xAPIC physical mode) has 8-bit APIC IDs (at most 0x${XAPIC_MAX_APIC_ID.toString(16)}), this machine's topology (${topology.describe()}) needs APIC IDs up to ${top}: use apic=x2apic-cluster or x2apic-phys (or auto)`,
    );
  }
}
