import { UsageError } from "../errors";
import { CpuMask } from "../machine/cpumask";
import type { Scenario, ScenarioContext } from "./scenario";

/**
 * The memory scenarios measure the modern kernel's barriers: the 2008 design's data structures do
 * not go through the memory layer, so under a weak model they would only show unordered accesses.
 */
function requireModern(ctx: ScenarioContext, scenario: string): void {
  if (ctx.policy.design === "2008" && ctx.system.kernel.memory.weak)
    throw new UsageError(
      `scenario ${scenario} measures the modern kernel's barriers; policy ${ctx.policy.name} runs the 2008 design, which does not go through the memory layer: use --policy modern (or --memory sc)`,
    );
}

/** What each run of a memory scenario found wrong (checked by its invariant). */
const staleResults = new WeakMap<ScenarioContext, string>();

/**
 * A waiter must see its callbacks' writes: CPU 0 makes waiting calls (a single call on 2 CPUs, a
 * many-call to every other CPU on more) whose callback writes a result; after the call returns,
 * CPU 0 reads each result. Under a weak memory model this is what `csd_unlock`'s release and
 * `csd_lock_wait`'s acquire guarantee.
 */
export const memSyncResult: Scenario = {
  name: "mem-sync-result",
  description:
    "CPU 0 makes waiting calls whose callbacks write a result, then reads it: the waiter must see the callback's writes (csd_unlock release, csd_lock_wait acquire)",
  defaultCpus: 2,
  minCpus: 2,
  maxCpus: 8,
  setup(ctx) {
    requireModern(ctx, "mem-sync-result");
    const { system, policy, runtime, ledger, cpus, calls } = ctx;
    const m = system.machine;
    const mem = system.kernel.memory;
    const others = Array.from({ length: cpus - 1 }, (_, i) => i + 1);
    if (cpus > 2 && policy.callMany === undefined)
      throw new UsageError(
        `policy ${policy.name} has no many-call: scenario mem-sync-result needs one on >2 CPUs`,
      );
    m.spawn(
      0,
      (function* () {
        for (let k = 0; k < calls; k++) {
          const id = `0.${k}`;
          ledger.issue(id, others);
          const cb = ledger.callback(id, (cpu) => mem.store(`result.${k}.${cpu}`, 1));
          if (cpus === 2) yield* policy.call(runtime, 1, cb, true);
          else yield* policy.callMany!(runtime, CpuMask.of(cpus, others), cb, true);
          ledger.returned(id);
          for (const t of others)
            if (mem.load(`result.${k}.${t}`) !== 1 && !staleResults.has(ctx)) {
              staleResults.set(
                ctx,
                `call ${id} returned, then CPU 0 read CPU ${t}'s result as 0: the callback's write was not visible to the waiter`,
              );
              // The verdict must be in the explorer's state key (which holds the memory, not this
              // map): a run that converges later with a clean one would otherwise be pruned.
              mem.store("stale-result-seen", 1);
            }
        }
      })(),
    );
  },
  invariants: [(ctx) => staleResults.get(ctx) ?? null],
};

/**
 * The idle polling handshake: CPU 0 sends no-wait calls to the idle CPUs. A call that finds its
 * target polling sets need_resched instead of sending an IPI, and the idle task flushes its queue
 * on the way out — which is correct only if either the sender sees the polling bit cleared (and
 * sends an IPI) or the idle task sees the queued call (`do_idle`'s `smp_mb__after_atomic` against
 * the fully ordered `llist_add`). Use `--idle poll` for the smallest case.
 */
export const memIdleWakeup: Scenario = {
  name: "mem-idle-wakeup",
  description:
    "CPU 0 sends no-wait calls to idle CPUs: the polling handshake (set_nr_if_polling against do_idle's smp_mb__after_atomic) must lose no call",
  defaultCpus: 2,
  minCpus: 2,
  maxCpus: 8,
  setup(ctx) {
    requireModern(ctx, "mem-idle-wakeup");
    const { system, policy, runtime, ledger, cpus, calls } = ctx;
    const m = system.machine;
    m.spawn(
      0,
      (function* () {
        for (let k = 0; k < calls; k++) {
          for (let t = 1; t < cpus; t++) {
            const id = `0.${k}.${t}`;
            ledger.issue(id, [t]);
            yield* policy.call(runtime, t, ledger.callback(id), false);
          }
        }
      })(),
    );
  },
};

/**
 * Several senders, one target: every CPU but 0 sends no-wait calls to idle CPU 0. A call that
 * finds the queue non-empty sends no IPI and makes no other fully ordered access: only its
 * `llist_add` publishes the csd's func/info to the target.
 */
export const memSharedTarget: Scenario = {
  name: "mem-shared-target",
  description:
    "every CPU but 0 sends no-wait calls to idle CPU 0: a call that joins a non-empty queue is published by its llist_add alone",
  defaultCpus: 3,
  minCpus: 3,
  maxCpus: 8,
  setup(ctx) {
    requireModern(ctx, "mem-shared-target");
    const { system, policy, runtime, ledger, cpus, calls } = ctx;
    const m = system.machine;
    for (let cpu = 1; cpu < cpus; cpu++)
      m.spawn(
        cpu,
        (function* () {
          for (let k = 0; k < calls; k++) {
            const id = `${cpu}.${k}`;
            ledger.issue(id, [0]);
            yield* policy.call(runtime, 0, ledger.callback(id), false);
          }
        })(),
      );
  },
};

/**
 * Caller-owned csds: every CPU but 0 queues its own csds (`smp_call_function_single_async`, one
 * csd per call, func/info set when the csd was initialised) on idle CPU 0. The csd's lock bit is
 * stored just before `smp_wmb` and the queueing; the target's `csd_unlock` checks the bit.
 */
export const memAsyncCsd: Scenario = {
  name: "mem-async-csd",
  description:
    "every CPU but 0 queues caller-owned csds on idle CPU 0 (smp_call_function_single_async): the lock bit must reach the target",
  defaultCpus: 3,
  minCpus: 2,
  maxCpus: 8,
  setup(ctx) {
    const { system, policy, ledger, cpus, calls } = ctx;
    const m = system.machine;
    const kernel = system.kernel;
    if (policy.design === "2008")
      throw new UsageError(`scenario mem-async-csd runs on the modern kernel: use --policy modern`);
    for (let cpu = 1; cpu < cpus; cpu++)
      m.spawn(
        cpu,
        (function* () {
          for (let k = 0; k < calls; k++) {
            const id = `${cpu}.${k}`;
            ledger.issue(id, [0]);
            yield* kernel.smpCallFunctionSingleAsync(0, kernel.initCsd(ledger.callback(id)));
          }
        })(),
      );
  },
};
