import type { CpuCode, Wait } from "./step";

/** Frame kind: the CPU's task program. */
export const FRAME_TASK = 0;
/** Frame kind: an interrupt handler running nested on the CPU. */
export const FRAME_IRQ = 1;
/** Frame kind: the idle loop. */
export const FRAME_IDLE = 2;

/** Per-CPU counters the machine keeps (fields of {@link Cpu}). */
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

/** Slots per frame in {@link Cpu.stack}. */
export const FRAME_SLOTS = 6;
/** Offsets of a frame's fields in {@link Cpu.stack}. */
export const F_CODE = 0;
/** Offset of the frame kind (FRAME_*). */
export const F_KIND = 1;
/** Offset of the saved irqsDisabled of an IRQ frame. */
export const F_SAVED_IRQS = 2;
/** Offset of the wait the frame is blocked on (null = runnable). */
export const F_WAIT = 3;
/** Offset of when that wait began. */
export const F_WAIT_SINCE = 4;
/** Offset of the interrupt line of an IRQ frame (-1 otherwise). */
export const F_LINE = 5;

/**
 * One simulated CPU: its state bits and the stack of code frames running on it. Task code is
 * at the bottom; an interrupt pushes a frame that runs nested and is popped when it returns.
 * Frames live in one flat array (6 slots a frame) so a CPU is a few cache lines, which matters
 * when a broadcast touches 8192 of them. The counters are plain fields; `counters` is a view.
 */
export class Cpu implements CpuCounters {
  // Field order is memory order: the fields every interrupt delivery and step reads come first,
  // so a visit to one of 8192 CPUs touches as few cache lines as possible.
  /** Pending interrupt lines, bit n = line n raised and not yet taken. */
  pendingLines = 0;
  /** Scheduled resume event slot, or -1. */
  resumeEvent = -1;
  /** Time of the scheduled resume, if any. */
  resumeAt = 0;
  /** Hotplug: the CPU has completed its dying step and does not run until brought up. */
  dead = false;
  /** Local interrupts disabled. */
  irqsDisabled = false;
  /** Number of frames on the stack. */
  depth = 0;
  /**
   * The innermost frame's wait (null = runnable): the same as its slot in {@link stack}, kept
   * here too so delivering an interrupt or resuming a CPU reads the CPU alone.
   */
  topWait: Wait | null = null;
  /** `topWait` is a halt (its `wakesOnInterrupt`): an interrupt ends it. */
  topWaitHalts = false;
  /** The innermost frame's code (null without frames): the same as its slot in {@link stack}. */
  topCode: CpuCode<unknown> | null = null;
  /**
   * Set by the idle loop before it sleeps: what waking from that sleep costs (ns), -1 = the cost
   * model's `haltExitNs`.
   */
  idleExitNs = -1;
  /** Interrupt raises received. */
  raisesReceived = 0;
  /** Hard-IRQ nesting depth (0 = task context). */
  hardirqDepth = 0;
  /** Interrupts taken. */
  irqsTaken = 0;
  /** Virtual ns spent in steps (including callbacks and sends). */
  busyNs = 0;
  /**
   * The idle sleep keeps polling while asleep but clears the flag when an interrupt wakes it
   * (MWAIT): the handler then runs with polling off, as after `current_clr_polling()`.
   */
  pollingEndsOnWake = false;
  /** Idle and polling need_resched (TIF_POLLING_NRFLAG): woken by a flag write, no IPI needed. */
  polling = false;
  /** The scheduler asked this CPU to reschedule. */
  needResched = false;
  /** Task programs queued for this CPU and not started yet. */
  programsQueued = 0;
  /**
   * What foreign code the kernel is running on this CPU right now (`backend generic
   * (sendCallFunctionSingleIpi)`, `callback flush_fn`), or null: names the culprit when that code
   * yields a bad step or throws.
   */
  codeLabel: string | null = null;
  /** The frame depth `codeLabel` belongs to (an interrupt taken meanwhile runs deeper, under its own name). */
  codeLabelDepth = -1;
  /** With `codeLabel` "callback": the cross-call callback running (named by its function name). */
  codeCallback: ((...args: never[]) => unknown) | null = null;
  /** Frames, innermost last, FRAME_SLOTS slots each (see the F_* offsets). */
  readonly stack: unknown[] = [];
  /** In the idle loop. */
  idle = false;
  /** In `cpu_online_mask`. */
  online = true;
  /** preempt_count: > 0 while the CPU is inside preempt_disable / get_cpu (stop_machine waits it out). */
  preemptCount = 0;
  /** Has been booted at least once (x86 shorthand rule). */
  bootedOnce = true;
  /** The task program has not finished yet. */
  programRunning = false;
  /** A CSD lock-wait deadline the watchdog must wake this CPU at (0 = none). */
  watchdogDeadline = 0;
  /** Time of the armed watchdog event (0 = none armed). */
  watchdogArmedAt = 0;
  spinNs = 0;
  raisesMerged = 0;

  constructor(readonly id: number) {}

  /** The counters (the CPU itself, seen through the {@link CpuCounters} fields). */
  get counters(): CpuCounters {
    return this;
  }

  /** In task context (no hard IRQ). */
  get inTask(): boolean {
    return this.hardirqDepth === 0;
  }

  /** The wait the innermost frame is blocked on, or null. */
  get waiting(): Wait | null {
    return this.topWait;
  }

  /** The wait of frame `i` (0 = bottom), or null. */
  frameWait(i: number): Wait | null {
    return this.stack[i * FRAME_SLOTS + F_WAIT] as Wait | null;
  }

  /** When frame `i`'s wait began. */
  frameWaitSince(i: number): number {
    return this.stack[i * FRAME_SLOTS + F_WAIT_SINCE] as number;
  }

  /** The FRAME_* kind of frame `i`. */
  frameKind(i: number): number {
    return this.stack[i * FRAME_SLOTS + F_KIND] as number;
  }
}
