import type { CpuCode, Wait } from "./step";

/** Frame kind: the CPU's task program. */
export const FRAME_TASK = 0;
/** Frame kind: an interrupt handler running nested on the CPU. */
export const FRAME_IRQ = 1;
/** Frame kind: the idle loop. */
export const FRAME_IDLE = 2;

/** Per-CPU counters the machine keeps. */
export interface CpuCounters {
  /** Virtual ns spent in steps (including callbacks and sends). */
  busyNs: number;
  /** Virtual ns spent blocked in non-halt waits (spinning). */
  spinNs: number;
  /** Interrupts taken. */
  irqsTaken: number;
  /** Interrupt raises that found the line already pending (merged into one interrupt). */
  raisesMerged: number;
  /** Interrupt raises received. */
  raisesReceived: number;
}

/**
 * One simulated CPU: its state bits and the stack of code frames running on it. Task code is
 * at the bottom; an interrupt pushes a frame that runs nested and is popped when it returns.
 */
export class Cpu {
  /** In `cpu_online_mask`. */
  online = true;
  /** Has been booted at least once (x86 shorthand rule). */
  bootedOnce = true;
  /** Local interrupts disabled. */
  irqsDisabled = false;
  /** Hard-IRQ nesting depth (0 = task context). */
  hardirqDepth = 0;
  /** In the idle loop. */
  idle = false;
  /** Idle and polling need_resched (TIF_POLLING_NRFLAG): woken by a flag write, no IPI needed. */
  polling = false;
  /** The scheduler asked this CPU to reschedule. */
  needResched = false;
  /** Pending interrupt lines, bit n = line n raised and not yet taken. */
  pendingLines = 0;
  /** Code frames, innermost last. */
  readonly frames: CpuCode<unknown>[] = [];
  /** Kind of each frame (FRAME_*). */
  readonly frameKind: number[] = [];
  /** For IRQ frames: the irqsDisabled value to restore on return. */
  readonly frameSavedIrqs: boolean[] = [];
  /** The wait each frame is blocked on (null = runnable). */
  readonly frameWait: (Wait | null)[] = [];
  /** When each frame's wait began. */
  readonly frameWaitSince: number[] = [];
  /** For IRQ frames: the line taken (-1 otherwise). */
  readonly frameLine: number[] = [];
  /** Scheduled resume event slot, or -1. */
  resumeEvent = -1;
  /** Time of the scheduled resume, if any. */
  resumeAt = 0;
  /** The task program has not finished yet. */
  programRunning = false;
  /** A CSD lock-wait deadline the watchdog must wake this CPU at (0 = none). */
  watchdogDeadline = 0;
  /** Time of the armed watchdog event (0 = none armed). */
  watchdogArmedAt = 0;
  /** Hotplug: work the CPU must run at its next step (the dying flush), or null. */
  stopWork: (() => CpuCode<void>) | null = null;
  /** Hotplug: the CPU has completed its dying step and does not run until brought up. */
  dead = false;
  /** Counters. */
  readonly counters: CpuCounters = { busyNs: 0, spinNs: 0, irqsTaken: 0, raisesMerged: 0, raisesReceived: 0 };

  constructor(readonly id: number) {}

  /** In task context (no hard IRQ). */
  get inTask(): boolean {
    return this.hardirqDepth === 0;
  }

  /** The wait the innermost frame is blocked on, or null. */
  get waiting(): Wait | null {
    const n = this.frames.length;
    return n > 0 ? this.frameWait[n - 1] : null;
  }
}
