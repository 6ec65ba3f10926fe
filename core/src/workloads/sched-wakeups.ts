import type { CallSingleData } from "../kernel/csd";
import type { WakeTask } from "../kernel/queue-entries";
import type { Workload } from "./workload";
import { busyCpus, forEachSender, randomOtherCpu } from "./workload";

function wakeup_async_fn(): void {}
function wakeup_sync_fn(): void {}
function wakeup_irq_work_fn(): void {}

/** Tasks each sender can wake. */
const TASKS_PER_SENDER = 4;

/**
 * What the scheduler sends besides cross-calls: remote wake-ups queued on the target's call queue
 * (`ttwu_queue_wakelist`, often a few in a row to one CPU), reschedules (`resched_curr`: need_resched
 * and a reschedule IPI, a vector of its own), irq_work queued on other CPUs, and async and sync
 * single calls, all to the same targets. Wake-ups and irq_work share the call queue with the
 * calls, so an entry that finds the queue non-empty needs no IPI; a reschedule costs one unless
 * the target is idle and polling, or idle with need_resched already set. Ops are spread over three
 * quarters of the CPUs; the rest stay idle, so the idle polling mode shows too.
 */
export const schedWakeupsWorkload: Workload = {
  name: "sched-wakeups",
  description:
    "remote wake-ups (ttwu wake list), reschedule IPIs, irq_work and single calls mixed on the same targets",
  defaultOps: (cpus) => Math.min(100_000, 50 * cpus),
  install(ctx) {
    const m = ctx.system.machine;
    const k = ctx.system.kernel;
    // A quarter of the CPUs (at least one) stay idle so idle wake-ups show.
    forEachSender(ctx, busyCpus(ctx), (cpu, share, rng) => {
      const tasks: WakeTask[] = [];
      for (let t = 0; t < TASKS_PER_SENDER; t++) tasks.push(k.initTask(`worker/${cpu}:${t}`));
      const work: CallSingleData = k.initIrqWork(wakeup_irq_work_fn, null);
      m.spawn(
        cpu,
        (function* () {
          for (let i = 0; i < share; i++) {
            yield 200 + rng.int(1800);
            const target = randomOtherCpu(ctx, rng, cpu);
            if (target < 0) continue;
            const dice = rng.int(100);
            if (dice < 45) {
              // A burst: one to three of this sender's tasks woken on the same CPU.
              const burst = 1 + rng.int(3);
              for (let b = 0; b < burst; b++)
                yield* k.ttwuQueueWakelist(target, tasks[rng.int(TASKS_PER_SENDER)]);
            } else if (dice < 60) {
              yield* k.reschedCurr(target);
            } else if (dice < 80) {
              yield* k.smpCallFunctionSingle(target, wakeup_async_fn, null, false);
            } else if (dice < 90) {
              yield* k.smpCallFunctionSingle(target, wakeup_sync_fn, null, true);
            } else {
              yield* k.irqWorkQueueOn(work, target);
            }
          }
        })(),
      );
    });
  },
};
