import { UsageError } from "../errors";
import { broadcastWorkload } from "./broadcast";
import { mixedWorkload } from "./mixed";
import { schedWakeupsWorkload } from "./sched-wakeups";
import { singleStormWorkload } from "./single-storm";
import { tlbShootdownWorkload } from "./tlb-shootdown";
import type { Workload } from "./workload";

export * from "./workload";
export { broadcastWorkload, mixedWorkload, schedWakeupsWorkload, singleStormWorkload, tlbShootdownWorkload };

/** Built-in workloads; `mixed` is the default. */
export const WORKLOADS: readonly Workload[] = [
  mixedWorkload,
  broadcastWorkload,
  singleStormWorkload,
  tlbShootdownWorkload,
  schedWakeupsWorkload,
];
/** The workload of `smpcall run` when none is given. */
export const DEFAULT_WORKLOAD = "mixed";

/** Look a workload up by name; throws UsageError listing the choices. */
export function getWorkload(name: string): Workload {
  const w = WORKLOADS.find((x) => x.name === name);
  if (!w)
    throw new UsageError(
      `unknown workload "${name}"; choose one of: ${WORKLOADS.map((x) => x.name).join(", ")}`,
    );
  return w;
}
