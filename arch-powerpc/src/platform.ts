/**
 * PowerPC platform: how `cause_ipi` reaches another CPU, as Linux 6.1 chooses it at boot.
 * - `powernv-power8`: bare metal, POWER8 and earlier: a doorbell (`msgsnd`) to an SMT sibling of
 *   the sender, else the XICS (a write to the target's MFRR).
 * - `powernv-power9`: bare metal, POWER9 and later (ISA 3.0): a global doorbell (`msgsnd` with the
 *   target's thread id) reaches any thread, so every IPI is a doorbell; XIVE is not used for IPIs.
 * - `pseries-powervm-xive` / `pseries-powervm-xics`: a PowerVM guest: `msgsndp` to a sibling
 *   (vCPU siblings are gang-scheduled on one core), else the controller: a XIVE ESB trigger
 *   store, or the `H_IPI` hypercall with XICS.
 * - `pseries-kvm-xive`: a KVM guest with XIVE: no doorbells (KVM would have to emulate
 *   `msgsndp`), every IPI is a XIVE ESB trigger.
 * - `pseries-kvm-xics`: a KVM guest with XICS: `msgsndp` to a sibling, trapped and emulated by
 *   KVM (a hypervisor entry), else `H_IPI`.
 * - `mpic-2008`: v2.6.26 MPIC machines: one MPIC IPI channel per message, no muxing.
 */
export type PpcPlatform =
  | "powernv-power8"
  | "powernv-power9"
  | "pseries-powervm-xive"
  | "pseries-powervm-xics"
  | "pseries-kvm-xive"
  | "pseries-kvm-xics"
  | "mpic-2008";

/** The platforms, for the options schema. */
export const PPC_PLATFORMS: readonly PpcPlatform[] = [
  "powernv-power8",
  "powernv-power9",
  "pseries-powervm-xive",
  "pseries-powervm-xics",
  "pseries-kvm-xive",
  "pseries-kvm-xics",
  "mpic-2008",
];

/** How `cause_ipi` reaches a sibling thread (same core) on a platform. */
export type SiblingPath = "doorbell" | "msgsndp-trapped" | "controller";
/** How `cause_ipi` reaches a thread of another core on a platform. */
export type RemotePath = "global-doorbell" | "xics-mfrr" | "xive-esb" | "h-ipi";

/** What a muxed platform's `cause_ipi` does for a sibling and for another core. */
export interface CauseIpiRoute {
  readonly sibling: SiblingPath;
  readonly remote: RemotePath;
}

/** The 6.1 `cause_ipi` of each muxed platform (mpic-2008 has none: it sends per channel). */
export const CAUSE_IPI: Readonly<Record<Exclude<PpcPlatform, "mpic-2008">, CauseIpiRoute>> = {
  "powernv-power8": { sibling: "doorbell", remote: "xics-mfrr" },
  "powernv-power9": { sibling: "doorbell", remote: "global-doorbell" },
  "pseries-powervm-xive": { sibling: "doorbell", remote: "xive-esb" },
  "pseries-powervm-xics": { sibling: "doorbell", remote: "h-ipi" },
  "pseries-kvm-xive": { sibling: "controller", remote: "xive-esb" },
  "pseries-kvm-xics": { sibling: "msgsndp-trapped", remote: "h-ipi" },
};

/** SMT threads per core the backend models (cores are groups of consecutive CPU ids; the last may be partial). */
export const THREADS_PER_CORE = ["1", "2", "4", "8"] as const;

/**
 * The most CPUs an MPIC addresses: its IPI dispatch registers hold a 32-bit destination mask
 * (6.1: `MPIC_MAX_CPUS`, checked at boot). `mpic-2008` refuses a larger machine.
 */
export const MPIC_MAX_CPUS = 32;
