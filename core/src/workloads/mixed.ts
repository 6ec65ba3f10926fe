import { CpuMask } from "../machine/cpumask";
import type { CallSingleData } from "../kernel/csd";
import type { Workload } from "./workload";
import { BROADCAST_SENDERS } from "./broadcast";
import { busyCpus, forEachSender, randomOtherCpu } from "./workload";

function mixed_single_fn(): void {}
function mixed_async_fn(): void {}
function mixed_many_fn(): void {}
function mixed_bcast_fn(): void {}
function mixed_flush_fn(): void {}
function mixed_any_fn(): void {}
function mixed_csd_fn(): void {}
function mixed_not_lazy(cpu: number): boolean {
  return (cpu & 3) !== 3;
}

/**
 * A blend of every API: sync and async singles, many-calls to random masks, broadcasts,
 * on_each_cpu_cond_mask flushes, smp_call_function_any and caller-owned async csds (which can
 * return -EBUSY). Ops are spread over three quarters of the CPUs; the rest stay idle and serve
 * IPIs. Only the first 64 CPUs broadcast (see broadcastWorkload).
 */
export const mixedWorkload: Workload = {
  name: "mixed",
  description:
    "a blend of single (sync/async), many, broadcast, on_each_cpu_cond_mask, any and async-csd calls",
  defaultOps: (cpus) => Math.min(100_000, 50 * cpus),
  install(ctx) {
    const m = ctx.system.machine;
    const k = ctx.system.kernel;
    const n = m.nrCpus;
    // A quarter of the CPUs (at least one) stay idle so idle wake-ups show.
    forEachSender(ctx, busyCpus(ctx), (cpu, share, rng) => {
      const mask = new CpuMask(n);
      const ownCsd: CallSingleData = k.initCsd(mixed_csd_fn, null);
      m.spawn(
        cpu,
        (function* () {
          for (let i = 0; i < share; i++) {
            yield 200 + rng.int(1800);
            const dice = rng.int(100);
            if (dice < 30) {
              const t = randomOtherCpu(ctx, rng, cpu);
              yield* k.smpCallFunctionSingle(t, mixed_single_fn, null, true);
            } else if (dice < 55) {
              const t = randomOtherCpu(ctx, rng, cpu);
              yield* k.smpCallFunctionSingle(t, mixed_async_fn, null, false);
            } else if (dice < 70) {
              mask.clearAll();
              const w = 1 + rng.int(Math.min(n, 16));
              for (let j = 0; j < w; j++) mask.set(rng.int(n));
              yield* k.smpCallFunctionMany(mask, mixed_many_fn, null, rng.chance(0.5));
            } else if (dice < 80 && cpu < BROADCAST_SENDERS) {
              yield* k.smpCallFunction(mixed_bcast_fn, null, true);
            } else if (dice < 80) {
              // Past the first 64 CPUs a broadcast becomes a many-call to a random mask: every
              // broadcasting CPU keeps a csd per target alive (N^2 csds on a big machine).
              mask.clearAll();
              for (let j = 0; j < Math.min(n, 16); j++) mask.set(rng.int(n));
              yield* k.smpCallFunctionMany(mask, mixed_bcast_fn, null, true);
            } else if (dice < 90) {
              mask.clearAll();
              for (let j = 0; j < Math.min(n, 8); j++) mask.set(rng.int(n));
              mask.set(cpu);
              yield* k.onEachCpuCondMask(mixed_not_lazy, mixed_flush_fn, null, true, mask);
            } else if (dice < 95) {
              mask.clearAll();
              mask.set(rng.int(n));
              mask.set(rng.int(n));
              yield* k.smpCallFunctionAny(mask, mixed_any_fn, null, true);
            } else {
              const t = randomOtherCpu(ctx, rng, cpu);
              yield* k.smpCallFunctionSingleAsync(t, ownCsd);
            }
          }
        })(),
      );
    });
  },
};
