import type { Workload } from "./workload";
import { opsShare, randomOtherCpu } from "./workload";

/** The callback of every storm call. */
function storm_fn(): void {}

/** Every CPU sends asynchronous single calls (wait=0) to random other CPUs. */
export const singleStormWorkload: Workload = {
  name: "single-storm",
  description: "every CPU sends async smp_call_function_single to random targets (wait=0)",
  defaultOps: (cpus) => Math.min(200_000, 32 * cpus),
  install(ctx) {
    const m = ctx.system.machine;
    const k = ctx.system.kernel;
    for (let cpu = 0; cpu < m.nrCpus; cpu++) {
      const share = opsShare(cpu, m.nrCpus, ctx.ops);
      if (share === 0 || !m.cpus[cpu].online) continue;
      const rng = ctx.rng.fork(`cpu${cpu}`);
      m.spawn(
        cpu,
        (function* () {
          for (let i = 0; i < share; i++) {
            yield 100 + rng.int(400);
            const target = randomOtherCpu(ctx, rng, cpu);
            if (target >= 0) yield* k.smpCallFunctionSingle(target, storm_fn, null, false);
          }
        })(),
      );
    }
  },
};
