import type { Workload } from "./workload";
import { spreadOps } from "./workload";

/** The callback every other CPU runs. */
function broadcast_fn(): void {}

/** At most this many CPUs issue broadcasts; the others only receive. */
export const BROADCAST_SENDERS = 64;

/**
 * smp_call_function(func, info, wait=1): each op reaches all other online CPUs. Ops are spread
 * round-robin over the first 64 CPUs (all of them on smaller machines); the rest only receive,
 * as on a real machine where a few CPUs broadcast at a time. (With every CPU of a big machine
 * broadcasting at once, each sender's per-target call data is live at once: N^2 csds.)
 */
export const broadcastWorkload: Workload = {
  name: "broadcast",
  description: `smp_call_function to all other CPUs with wait; ops spread round-robin over the first ${BROADCAST_SENDERS} CPUs`,
  defaultOps: (cpus) => Math.max(4, Math.min(64, Math.floor(65536 / cpus))),
  install(ctx) {
    const k = ctx.system.kernel;
    spreadOps(ctx, [200, 2000], () => k.smpCallFunction(broadcast_fn, null, true), BROADCAST_SENDERS);
  },
};
