import "reflect-metadata";
import { ArchIpiToken, cpulistOption, type ArchDescriptor } from "@smpcall/core";
import { Lifecycle } from "tsyringe";
import { MONDO_RETRY_LIMIT } from "./hypervisor";
import { MondoIpi } from "./mondo-ipi";

export * from "./hypervisor";
export { MondoIpi, type SparcPlatform } from "./mondo-ipi";

/** The `sparc` backend: sparc64 cross-calls through sun4v mondo queues or sun4u dispatch registers. */
export const descriptor: ArchDescriptor = {
  name: "sparc",
  description:
    "sparc64 cross-calls: sun4v hypervisor_xcall_deliver (would-block retries, HV_ECPUERROR/HV_ENOCPU drops, mondo timeout panic), sun4u Cheetah/Spitfire dispatch with BUSY/NACK; mondo trap taken under a raised PIL, one queue entry per trap, then the softint",
  options: {
    platform: {
      type: "enum",
      choices: ["sun4v", "sun4u-cheetah", "sun4u-spitfire"],
      default: "sun4v",
      description:
        "sun4v (hypervisor, T-series+), sun4u-cheetah (US-III/IV, 32 targets per dispatch), sun4u-spitfire (US-I/II, one)",
    },
    mondoQueueDepth: {
      type: "integer",
      min: 1,
      max: 4096,
      default: 128,
      description: "sun4v cpu mondo queue entries per CPU (commonly 2^7)",
    },
    nackRate: {
      type: "number",
      min: 0,
      max: 0.99,
      default: 0,
      description:
        "sun4u: probability a dispatch slot is NACKed (seeded fault injection; NACKs are retried without limit, so below 1)",
    },
    wouldBlockRate: {
      type: "number",
      min: 0,
      max: 1,
      default: 0,
      description:
        "sun4v: probability a try finds a target momentarily not taking traps, its queue full: HV_EWOULDBLOCK (seeded fault injection)",
    },
    errorCpus: {
      type: "cpulist",
      default: "",
      description:
        "CPUs in error state (sun4v: HV_ECPUERROR, dropped and reported; sun4u: the dispatch BUSY bit never clears, mondo stuckage)",
    },
    trapStallCpus: {
      type: "cpulist",
      default: "",
      description:
        "CPUs stuck in the hypervisor, taking no traps, for trapStallNs from the start: their mondo queue fills (would-block, sun4u NACK)",
    },
    trapStallNs: {
      type: "integer",
      min: 0,
      max: 10_000_000_000,
      default: 200_000,
      description: "how long the trapStallCpus take no traps, ns",
    },
    retryLimit: {
      type: "integer",
      min: 1,
      max: MONDO_RETRY_LIMIT,
      default: MONDO_RETRY_LIMIT,
      description:
        "sun4v: retries without progress before a mondo timeout, which panics the kernel (kernel: 500000)",
    },
    hypercallNs: {
      type: "integer",
      min: 0,
      max: 1_000_000,
      default: 2000,
      description: "cpu_mondo_send hypercall, ns (1-3 us)",
    },
    hvTargetNs: {
      type: "integer",
      min: 0,
      max: 100_000,
      default: 100,
      description:
        "sun4v: the hypervisor's time per CPU-list entry in cpu_mondo_send (mailbox, 64-byte copy, membar, vector), ns (estimate)",
    },
    dispatchNs: {
      type: "integer",
      min: 0,
      max: 100_000,
      default: 100,
      description: "sun4u: writing one dispatch slot (data + dispatch register), ns",
    },
    busyPollNs: {
      type: "integer",
      min: 0,
      max: 100_000,
      default: 300,
      description: "sun4u: polling the dispatch status until no BUSY bit, ns",
    },
    latencyNs: {
      type: "integer",
      min: 0,
      max: 1_000_000,
      default: 1000,
      description: "mondo delivery latency, ns",
    },
  },
  // sparc64 has no IPI tracepoints.
  tracepoints: [],
  // sun4v cpu_yield / sun4u sleep, or polling; no MWAIT. 6.1 sparc64 defines TIF_POLLING_NRFLAG.
  idleModes: ["halt", "poll"],
  idlePollingFlag: true,
  capabilities: {
    multicast: true,
    transientFaults: true,
    permanentFaults: true,
    offlineDelivery: "dropped",
    ackStatistic: "mondoEntries",
    ackedInterruptStatistic: "mondosDelivered",
    transientFaultOptions: { wouldBlockRate: 0.3, nackRate: 0.3, mondoQueueDepth: 2 },
    permanentFaultOption: "errorCpus",
    retryStatistic: "retries",
    // One per mondo put in a target's queue (sun4v) or dispatch register (sun4u).
    signalStatistic: "mondosDelivered",
    minDeliveryLatencyNs: (o) => o.latencyNs as number,
  },
  validate(options, machine) {
    cpulistOption("sparc", "errorCpus", options.errorCpus as string, machine.cpus);
    cpulistOption("sparc", "trapStallCpus", options.trapStallCpus as string, machine.cpus);
  },
  register(container) {
    container.register(ArchIpiToken, { useClass: MondoIpi }, { lifecycle: Lifecycle.ContainerScoped });
  },
};

export default descriptor;
