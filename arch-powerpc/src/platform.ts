/** PowerPC platform: how `cause_ipi` reaches another CPU. */
export type PpcPlatform = "powernv-xics" | "powernv-xive" | "pseries" | "mpic-2008";

/** The platforms, for the options schema. */
export const PPC_PLATFORMS: readonly PpcPlatform[] = ["powernv-xics", "powernv-xive", "pseries", "mpic-2008"];

/** SMT threads per core the backend models (cores are groups of consecutive CPU ids; the last may be partial). */
export const THREADS_PER_CORE = ["1", "2", "4", "8"] as const;

/** CPUs one MPIC IPI dispatch register write can name (a 32-bit destination mask). */
export const MPIC_DEST_WIDTH = 32;
