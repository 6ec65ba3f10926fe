import "reflect-metadata";
import { ArchIpiToken, type ArchDescriptor } from "@smpcall/core";
import { Lifecycle } from "tsyringe";
import { MuxedIpi } from "./muxed-ipi";
import { PPC_PLATFORMS, THREADS_PER_CORE } from "./platform";

export * from "./messages";
export * from "./platform";
export { MuxedIpi } from "./muxed-ipi";

/** The `powerpc` backend: muxed IPI messages over doorbells and XICS/XIVE, or the 2008 MPIC. */
export const descriptor: ArchDescriptor = {
  name: "powerpc",
  description:
    "PowerPC: muxed IPI messages in a per-CPU word; doorbells to SMT siblings, XICS/XIVE/H_IPI otherwise; 2008 MPIC channels with MSG_ALL_BUT_SELF",
  options: {
    platform: {
      type: "enum",
      choices: PPC_PLATFORMS,
      default: "powernv-xics",
      description:
        "powernv-xics (POWER5-8), powernv-xive (POWER9+), pseries (guest: msgsndp + H_IPI), mpic-2008 (v2.6.26: one MPIC channel per message)",
    },
    threadsPerCore: {
      type: "enum",
      choices: THREADS_PER_CORE,
      default: "8",
      description:
        "SMT threads per core (cores = consecutive CPU ids, the last one may be partial); siblings get doorbells",
    },
    doorbellSendNs: {
      type: "integer",
      min: 0,
      max: 100_000,
      default: 100,
      description: "msgsnd cost on the sender, ns (0.1-0.3 us)",
    },
    doorbellLatencyNs: {
      type: "integer",
      min: 0,
      max: 100_000,
      default: 200,
      description: "doorbell delivery, ns",
    },
    xicsSendNs: {
      type: "integer",
      min: 0,
      max: 100_000,
      default: 300,
      description: "XICS MFRR write (MMIO) cost, ns",
    },
    xicsLatencyNs: {
      type: "integer",
      min: 0,
      max: 100_000,
      default: 1500,
      description: "XICS/MPIC/H_IPI delivery, ns (1-2 us)",
    },
    xiveSendNs: {
      type: "integer",
      min: 0,
      max: 100_000,
      default: 200,
      description: "XIVE ESB trigger store cost, ns",
    },
    xiveLatencyNs: { type: "integer", min: 0, max: 100_000, default: 900, description: "XIVE delivery, ns" },
    hcallNs: {
      type: "integer",
      min: 0,
      max: 100_000,
      default: 1500,
      description: "pseries H_IPI hypercall cost, ns",
    },
    mpicSendNs: {
      type: "integer",
      min: 0,
      max: 100_000,
      default: 400,
      description: "MPIC IPI dispatch register write, ns",
    },
  },
  capabilities: {
    multicast: false,
    transientFaults: false,
    permanentFaults: false,
    offlineDelivery: "pending",
    ackStatistic: "acks",
  },
  register(container) {
    container.register(ArchIpiToken, { useClass: MuxedIpi }, { lifecycle: Lifecycle.ContainerScoped });
  },
};

export default descriptor;
