import { CallSingleData, type CsdTimes } from "./csd";

/**
 * What a remote wake-up's queue entry runs: the scheduler's batch of pending wake-ups. The entry
 * of every task carries it, so traces and reports name it as the kernel's `csd_queue_cpu` does.
 */
export function sched_ttwu_pending(): void {}

/**
 * A task that other CPUs can wake (the `wake_entry` of a task_struct): `kernel.ttwuQueueWakelist`
 * queues its entry on the CPU it should run on; that CPU activates it in the third flush pass
 * (`sched_ttwu_pending`) and sets need_resched. Create one with `kernel.initTask`.
 */
export class WakeTask {
  /** The queue entry (`p->wake_entry`, type CSD_TYPE_TTWU); locked while the wake-up is pending. */
  readonly wakeEntry: CallSingleData;
  /** Times the task was activated by a queued wake-up. */
  wakeups = 0;
  /** The CPU it was last activated on (-1 before the first). */
  lastCpu = -1;

  constructor(
    /** The task's name (`comm`), for reports. */
    readonly name: string,
    id: number,
    /** Called on the target when the task is activated (plain function: part of the batch's step). */
    readonly onWake: ((task: WakeTask, cpu: number) => void) | null,
    /** The kernel's csd time table (see CallSingleData). */
    times?: CsdTimes,
  ) {
    this.wakeEntry = new CallSingleData(id, "task", -1, sched_ttwu_pending, this, times);
  }

  /** A wake-up of this task is queued and not yet run. */
  get waking(): boolean {
    return this.wakeEntry.locked;
  }
}

/** Index of a CSD_TYPE_* value in the per-type counters (async 0, sync 1, irq_work 2, ttwu 3). */
export function typeIndex(flags: number): number {
  return (flags >> 4) & 3;
}

/** Names of the queue entry types, in `typeIndex` order. */
export const ENTRY_TYPE_NAMES = ["async", "sync", "irq_work", "ttwu"] as const;
