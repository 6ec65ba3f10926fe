import "reflect-metadata";
import { ArchIpiToken, ArchOptionError, type ArchDescriptor } from "@smpcall/core";
import { Lifecycle } from "tsyringe";
import { MuxedIpi } from "./muxed-ipi";
import { MPIC_MAX_CPUS, PPC_PLATFORMS, THREADS_PER_CORE } from "./platform";

export * from "./messages";
export * from "./platform";
export { MuxedIpi } from "./muxed-ipi";

/** The `powerpc` backend: muxed IPI messages over doorbells and XICS/XIVE, or the 2008 MPIC. */
export const descriptor: ArchDescriptor = {
  name: "powerpc",
  description:
    "PowerPC: muxed IPI messages in a per-CPU word; cause_ipi as 6.1 picks it per platform (sibling doorbells + XICS on POWER8, global doorbells on POWER9+, msgsndp + XIVE/H_IPI under PowerVM, XIVE only in KVM); 2008 MPIC channels with MSG_ALL_BUT_SELF (at most 32 CPUs)",
  options: {
    platform: {
      type: "enum",
      choices: PPC_PLATFORMS,
      default: "powernv-power9",
      description:
        "powernv-power8 (bare metal POWER8 and earlier: sibling doorbell, else XICS), powernv-power9 (POWER9+: global doorbell to any thread), pseries-powervm-xive / pseries-powervm-xics (PowerVM guest: msgsndp to siblings, else XIVE trigger / H_IPI), pseries-kvm-xive (KVM guest: XIVE only, no doorbells), pseries-kvm-xics (KVM guest: msgsndp trapped by KVM, else H_IPI), mpic-2008 (v2.6.26, not 6.1: one MPIC channel per message, at most 32 CPUs)",
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
      description: "doorbell delivery inside a core, ns",
    },
    globalDoorbellLatencyNs: {
      type: "integer",
      min: 0,
      max: 100_000,
      default: 500,
      description: "POWER9+ global doorbell delivery to another core, ns (crosses the fabric; estimate)",
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
      description: "pseries hypervisor entry: the H_IPI hypercall, or KVM trapping and emulating msgsndp, ns",
    },
    mpicSendNs: {
      type: "integer",
      min: 0,
      max: 100_000,
      default: 400,
      description: "MPIC IPI dispatch register write, ns",
    },
  },
  // None of the events smpcall records is a powerpc kernel tracepoint (its doorbell/irq events print pt_regs).
  tracepoints: [],
  // A sleeping idle state (nap/stop, pseries cede) or the snooze/poll loop; no MWAIT. 6.1 powerpc
  // defines TIF_POLLING_NRFLAG.
  idleModes: ["halt", "poll"],
  idlePollingFlag: true,
  capabilities: {
    multicast: false,
    transientFaults: false,
    permanentFaults: false,
    // powernv clears what an offline thread had when it comes back (pnv_cpu_offline_self), and a
    // KVM guest with XIVE, whose every IPI is a XIVE one, has its IPI source set up afresh
    // (xive_setup_cpu_ipi): dropped. A pseries doorbell or XICS IPI and mpic-2008's stay pending.
    // PowerVM with XIVE is both: a doorbell to an SMT sibling stays pending (declared), an IPI to
    // another core goes through XIVE and is dropped (README, "Offline CPUs"). The value declared
    // there is the one for CPU 0 -> CPU 5 (the kit's offline check): siblings with 8 threads per
    // core (a doorbell: pending), other cores with fewer (XIVE: dropped).
    offlineDelivery: (o) =>
      (o.platform as string).startsWith("powernv") ||
      o.platform === "pseries-kvm-xive" ||
      (o.platform === "pseries-powervm-xive" && o.threadsPerCore !== "8")
        ? "dropped"
        : "pending",
    ackStatistic: "acks",
    // One per cause_ipi (doorbell, XICS/XIVE trigger, H_IPI) or MPIC channel delivery to a CPU.
    signalStatistic: "ipisCaused",
    // Every raise is one of these send costs plus its delivery latency: the least of them.
    minDeliveryLatencyNs: (o) => {
      const n = (k: string) => o[k] as number;
      return Math.min(
        n("doorbellSendNs") + n("doorbellLatencyNs"),
        n("hcallNs") + n("doorbellLatencyNs"),
        n("doorbellSendNs") + n("globalDoorbellLatencyNs"),
        n("xicsSendNs") + n("xicsLatencyNs"),
        n("xiveSendNs") + n("xiveLatencyNs"),
        n("hcallNs") + n("xicsLatencyNs"),
        n("mpicSendNs") + n("xicsLatencyNs"),
      );
    },
  },
  validate(options, machine) {
    if (options.platform === "mpic-2008" && machine.cpus > MPIC_MAX_CPUS)
      throw new ArchOptionError(
        `platform=mpic-2008: an MPIC addresses at most ${MPIC_MAX_CPUS} CPUs (a 32-bit IPI destination mask), this machine has ${machine.cpus}: use a powernv or pseries platform`,
      );
  },
  topology(options) {
    return { threadsPerCore: Number(options.threadsPerCore), numbering: "siblings-adjacent" };
  },
  register(container) {
    container.register(ArchIpiToken, { useClass: MuxedIpi }, { lifecycle: Lifecycle.ContainerScoped });
  },
};

export default descriptor;
