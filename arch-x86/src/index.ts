import "reflect-metadata";
import { ArchIpiToken, CPU_NUMBERINGS, type ArchDescriptor, type CpuNumbering } from "@smpcall/core";
import { Lifecycle } from "tsyringe";
import { resolveApicMode, validateApicMode, type ApicOption } from "./apic-mode";
import { LocalApicIpi } from "./local-apic-ipi";

export * from "./apic-id";
export * from "./apic-mode";
export * from "./vectors";
export { LocalApicIpi } from "./local-apic-ipi";

/** The `x86` backend: local APICs (xAPIC flat/physical, x2APIC cluster/physical), shorthand, KVM PV IPI. */
export const descriptor: ArchDescriptor = {
  name: "x86",
  description:
    "x86 local APIC: IRR/ISR/ICR/EOI, xAPIC flat/physflat and x2APIC cluster/phys modes, all-but-self shorthand, KVM PV IPI",
  options: {
    apic: {
      type: "enum",
      choices: ["auto", "flat", "physflat", "x2apic-cluster", "x2apic-phys"],
      default: "auto",
      description:
        "APIC addressing mode; auto = flat up to 8 CPUs, else x2apic-cluster (Linux's pick for an xAPIC-only machine up to 8 CPUs and an x2APIC one with interrupt remapping above)",
    },
    shorthand: {
      type: "enum",
      choices: ["auto", "off"],
      default: "auto",
      description: "all-but-self shorthand: auto (Linux's rules) or off (no_ipi_broadcast=1)",
    },
    cpuNumbering: {
      type: "enum",
      choices: CPU_NUMBERINGS,
      default: "cores-first",
      description:
        "Linux CPU numbers over the SMT threads: cores-first (every core's first thread, then the siblings, the usual firmware order) or siblings-adjacent; APIC IDs always come from package/core/thread",
    },
    pvIpi: {
      type: "boolean",
      default: false,
      description:
        "KVM guest with PV IPI: a mask is one hypercall per 128-APIC-ID window (the all-but-self shorthand still wins, as Linux >= 5.4)",
    },
    latencyNs: {
      type: "integer",
      min: 0,
      max: 1_000_000,
      default: 1000,
      description: "delivery latency after the ICR write, ns (bare metal 0.5-2 us)",
    },
    x2apicWriteNs: {
      type: "integer",
      min: 0,
      max: 100_000,
      default: 200,
      description: "x2APIC ICR wrmsr cost, ns (0.1-0.3 us)",
    },
    xapicWriteNs: {
      type: "integer",
      min: 0,
      max: 100_000,
      default: 300,
      description: "xAPIC ICR MMIO write cost (high + low half), ns",
    },
    deliveryStatusNs: {
      type: "integer",
      min: 0,
      max: 100_000,
      default: 400,
      description:
        "xAPIC: how long the delivery-status bit stays set after a write, ns (the next write busy-waits for it)",
    },
    hypercallNs: {
      type: "integer",
      min: 0,
      max: 1_000_000,
      default: 2000,
      description:
        "KVM guest (pvIpi): cost of a PV IPI hypercall and of a trapped ICR write (a VM exit), ns (1-5 us)",
    },
  },
  // irq_vectors tracepoints of the vectors this backend models (6.1 has no ipi_raise/ipi_entry on x86).
  tracepoints: [
    "call_function_entry",
    "call_function_exit",
    "call_function_single_entry",
    "call_function_single_exit",
    "reschedule_entry",
    "reschedule_exit",
  ],
  // hlt (idle=halt), MWAIT idle (intel_idle / mwait_idle) and idle=poll; TIF_POLLING_NRFLAG exists.
  idleModes: ["halt", "mwait", "poll"],
  idlePollingFlag: true,
  capabilities: {
    multicast: true,
    transientFaults: false,
    permanentFaults: false,
    // An offline CPU's local APIC is soft-disabled (6.1 native_cpu_disable): an IPI sent to it is not
    // latched; one already in flight is discarded when the CPU boots again (INIT/SIPI).
    offlineDelivery: "dropped",
    ackStatistic: "eois",
    // One per target CPU an ICR write, the shorthand (offline CPUs too) or a PV hypercall reached.
    signalStatistic: "vectorsSent",
    // Every raise is the ICR write's completion (never before the send) plus latencyNs.
    minDeliveryLatencyNs: (o) => o.latencyNs as number,
  },
  validate(options, machine) {
    validateApicMode(options.apic as ApicOption, machine.cpus, machine.topology);
  },
  // An x2APIC ICR write is a wrmsr, which is not serialising: Linux fences before it
  // (weak_wrmsr_fence) so the queued call is visible before the IPI lands. The xAPIC's ICR is an
  // uncached MMIO store, ordered after earlier stores by itself.
  ipiSendFence(options, cpus) {
    return resolveApicMode(options.apic as ApicOption, cpus).startsWith("x2apic")
      ? "x2apic:weak_wrmsr_fence"
      : null;
  },
  topology(options) {
    return { numbering: options.cpuNumbering as CpuNumbering };
  },
  register(container) {
    container.register(ArchIpiToken, { useClass: LocalApicIpi }, { lifecycle: Lifecycle.ContainerScoped });
  },
};

export default descriptor;
