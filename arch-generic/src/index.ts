import "reflect-metadata";
import { ArchIpiToken, type ArchDescriptor } from "@smpcall/core";
import { Lifecycle } from "tsyringe";
import { GenericIpi } from "./generic-ipi";

export { GenericIpi, LINE_CALL_FUNCTION, LINE_RESCHEDULE } from "./generic-ipi";

/** The `generic` backend: the reference model and the template for ports. */
export const descriptor: ArchDescriptor = {
  name: "generic",
  description: "Reference backend: one software interrupt line per CPU, a loop over the mask, fixed latency",
  options: {
    latencyNs: {
      type: "integer",
      min: 0,
      max: 1_000_000,
      default: 1000,
      description: "delivery latency of an IPI, ns (default 1000: same-socket bare metal)",
    },
    sendCostNs: {
      type: "integer",
      min: 0,
      max: 1_000_000,
      default: 100,
      description: "sender cost of raising one IPI, ns (default 100: an x2APIC-like register write)",
    },
  },
  // The generic IPI tracepoints of include/trace/events/ipi.h, as arm and arm64 emit them.
  tracepoints: ["ipi_raise", "ipi_entry", "ipi_exit"],
  // An abstract machine: every idle mode the kernel model has, and the polling flag, so all of the
  // kernel's idle paths can be run on it (arm64 itself has neither MWAIT nor, in 6.1, the flag).
  idleModes: ["halt", "mwait", "poll"],
  idlePollingFlag: true,
  capabilities: {
    multicast: false,
    transientFaults: false,
    permanentFaults: false,
    offlineDelivery: "pending",
    ackStatistic: "acks",
    // Every raise, reschedules included (ipisRaised counts the call-function ones only).
    raiseStatistic: "raises",
    signalStatistic: "raises",
    minDeliveryLatencyNs: (o) => o.latencyNs as number,
  },
  register(container) {
    container.register(ArchIpiToken, { useClass: GenericIpi }, { lifecycle: Lifecycle.ContainerScoped });
  },
};

export default descriptor;
