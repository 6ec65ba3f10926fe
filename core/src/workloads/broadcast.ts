import type { Workload } from "./workload";
import { spreadOps } from "./workload";

/** The callback every other CPU runs. */
function broadcast_fn(): void {}

/** smp_call_function(func, info, wait=1) from every CPU in turn: each op reaches all other online CPUs. */
export const broadcastWorkload: Workload = {
  name: "broadcast",
  description: "smp_call_function to all other CPUs with wait; ops are spread round-robin over the CPUs",
  defaultOps: (cpus) => Math.max(4, Math.min(64, Math.floor(65536 / cpus))),
  install(ctx) {
    const k = ctx.system.kernel;
    spreadOps(ctx, [200, 2000], () => k.smpCallFunction(broadcast_fn, null, true));
  },
};
