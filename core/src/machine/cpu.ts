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

/** Bits of `Cpu.flags` (each a boolean accessor of {@link Cpu}). */
const CPU_DEAD = 1 << 0;
const CPU_IRQS_DISABLED = 1 << 1;
const CPU_TOP_WAIT_HALTS = 1 << 2;
const CPU_F1_SAVED_IRQS = 1 << 3;
const CPU_F0_SAVED_IRQS = 1 << 4;
const CPU_POLLING_ENDS_ON_WAKE = 1 << 5;
const CPU_POLLING = 1 << 6;
const CPU_NEED_RESCHED = 1 << 7;
const CPU_IDLE = 1 << 8;
const CPU_ONLINE = 1 << 9;
const CPU_BOOTED_ONCE = 1 << 10;
const CPU_PROGRAM_RUNNING = 1 << 11;
const CPU_TRAPS_HELD = 1 << 12;
const CPU_IDLE_RESUMES_ASLEEP = 1 << 13;
const CPU_WATCHDOG_RESEND = 1 << 14;

/** Slots per frame in {@link Cpu.stack} (and in the CPU's array of frames past the second). */
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
 * The two innermost-most-of-the-time frames (frame 0: the task or the idle loop; frame 1: an
 * interrupt taken on it) are fields of the CPU object itself, deeper frames live in one flat
 * array (6 slots a frame): a broadcast to 8192 CPUs visits them in random order, and every
 * separate object a visit touches is one more cache miss. The counters are plain fields;
 * `counters` is a view.
 */
export class Cpu implements CpuCounters {
  // Field order is memory order: the fields every interrupt delivery, step and callback reads come
  // first (slots 0-26, about four cache lines), so a visit to one of 8192 CPUs touches as few lines
  // as possible; the fifteen flags share one word (`flags`, read through accessors below).
  /** The boolean state bits (CPU_* masks), one small integer: see the accessors. */
  private flags = CPU_ONLINE | CPU_BOOTED_ONCE;
  /** Pending interrupt lines, bit n = line n raised and not yet taken. */
  pendingLines = 0;
  /** Scheduled resume event slot, or -1. */
  resumeEvent = -1;
  /** Time of the scheduled resume, if any. */
  resumeAt = 0;
  /** Number of frames on the stack. */
  depth = 0;
  /**
   * The innermost frame's wait (null = runnable): the same as its slot in {@link stack}, kept
   * here too so delivering an interrupt or resuming a CPU reads the CPU alone.
   */
  topWait: Wait | null = null;
  /** The innermost frame's code (null without frames): the same as its slot in {@link stack}. */
  topCode: CpuCode<unknown> | null = null;
  /** Frame 0's code (null without it): the task program or the idle loop. */
  f0Code: CpuCode<unknown> | null = null;
  /** Frame 0's wait (null = runnable or no frame). */
  f0Wait: Wait | null = null;
  /** When frame 0's wait began. */
  f0WaitSince = 0;
  /** Frame 1's FRAME_* kind. */
  f1Kind = 0;
  /** Frame 1's interrupt line (-1: not an interrupt frame). */
  f1Line = -1;
  /** Frame 1's wait (null = runnable or no frame). */
  f1Wait: Wait | null = null;
  /** When frame 1's wait began. */
  f1WaitSince = 0;
  /** Frame 1's code (null without it). */
  f1Code: CpuCode<unknown> | null = null;
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
  /**
   * Per-CPU words the kernel layer counts in (callbacks run here; calls of its IPI handlers here),
   * kept in the CPU object because a target's interrupt touches it anyway: on a big machine a
   * per-CPU array of its own is one more cache miss per target. `KernelStats.callbacksOn` and
   * `handlerCallsOn` take them over (and zero them) when read.
   */
  kernelCallbacks = 0;
  /** See {@link kernelCallbacks}: generic IPI handler calls not yet taken over by `KernelStats`. */
  kernelHandlerCalls = 0;
  /** Frame 0's FRAME_* kind. */
  f0Kind = 0;
  /** Frame 0's interrupt line (-1: not an interrupt frame). */
  f0Line = -1;
  /** Frames 2 and deeper, FRAME_SLOTS slots each (see the F_* offsets), frame 2 first. */
  readonly deepFrames: unknown[] = [];
  /** What {@link stack} last returned (built on first read). */
  private stackView: unknown[] | null = null;
  /** preempt_count: > 0 while the CPU is inside preempt_disable / get_cpu (stop_machine waits it out). */
  preemptCount = 0;
  /** A CSD lock-wait deadline the watchdog must wake this CPU at (0 = none). */
  watchdogDeadline = 0;
  /** Time of the armed watchdog event (0 = none armed). */
  watchdogArmedAt = 0;
  spinNs = 0;
  raisesMerged = 0;

  constructor(readonly id: number) {}

  /** Hotplug: the CPU has completed its dying step and does not run until brought up. */
  get dead(): boolean {
    return (this.flags & CPU_DEAD) !== 0;
  }
  /** Set or clear `dead` (a bit of the flags word). */
  set dead(v: boolean) {
    this.flags = v ? this.flags | CPU_DEAD : this.flags & ~CPU_DEAD;
  }
  /** Local interrupts disabled. */
  get irqsDisabled(): boolean {
    return (this.flags & CPU_IRQS_DISABLED) !== 0;
  }
  /** Set or clear `irqsDisabled` (a bit of the flags word). */
  set irqsDisabled(v: boolean) {
    this.flags = v ? this.flags | CPU_IRQS_DISABLED : this.flags & ~CPU_IRQS_DISABLED;
  }
  /** `topWait` is a halt (its `wakesOnInterrupt`): an interrupt ends it. */
  get topWaitHalts(): boolean {
    return (this.flags & CPU_TOP_WAIT_HALTS) !== 0;
  }
  /** Set or clear `topWaitHalts` (a bit of the flags word). */
  set topWaitHalts(v: boolean) {
    this.flags = v ? this.flags | CPU_TOP_WAIT_HALTS : this.flags & ~CPU_TOP_WAIT_HALTS;
  }
  /** Frame 1's saved irqsDisabled. */
  get f1SavedIrqs(): boolean {
    return (this.flags & CPU_F1_SAVED_IRQS) !== 0;
  }
  /** Set or clear `f1SavedIrqs` (a bit of the flags word). */
  set f1SavedIrqs(v: boolean) {
    this.flags = v ? this.flags | CPU_F1_SAVED_IRQS : this.flags & ~CPU_F1_SAVED_IRQS;
  }
  /** Frame 0's saved irqsDisabled. */
  get f0SavedIrqs(): boolean {
    return (this.flags & CPU_F0_SAVED_IRQS) !== 0;
  }
  /** Set or clear `f0SavedIrqs` (a bit of the flags word). */
  set f0SavedIrqs(v: boolean) {
    this.flags = v ? this.flags | CPU_F0_SAVED_IRQS : this.flags & ~CPU_F0_SAVED_IRQS;
  }
  /**
   * The idle sleep keeps polling while asleep but clears the flag when an interrupt wakes it
   * (MWAIT): the handler then runs with polling off, as after `current_clr_polling()`.
   */
  get pollingEndsOnWake(): boolean {
    return (this.flags & CPU_POLLING_ENDS_ON_WAKE) !== 0;
  }
  /** Set or clear `pollingEndsOnWake` (a bit of the flags word). */
  set pollingEndsOnWake(v: boolean) {
    this.flags = v ? this.flags | CPU_POLLING_ENDS_ON_WAKE : this.flags & ~CPU_POLLING_ENDS_ON_WAKE;
  }
  /** Idle and polling need_resched (TIF_POLLING_NRFLAG): woken by a flag write, no IPI needed. */
  get polling(): boolean {
    return (this.flags & CPU_POLLING) !== 0;
  }
  /** Set or clear `polling` (a bit of the flags word). */
  set polling(v: boolean) {
    this.flags = v ? this.flags | CPU_POLLING : this.flags & ~CPU_POLLING;
  }
  /** The scheduler asked this CPU to reschedule. */
  get needResched(): boolean {
    return (this.flags & CPU_NEED_RESCHED) !== 0;
  }
  /** Set or clear `needResched` (a bit of the flags word). */
  set needResched(v: boolean) {
    this.flags = v ? this.flags | CPU_NEED_RESCHED : this.flags & ~CPU_NEED_RESCHED;
  }
  /** In the idle loop. */
  get idle(): boolean {
    return (this.flags & CPU_IDLE) !== 0;
  }
  /** Set or clear `idle` (a bit of the flags word). */
  set idle(v: boolean) {
    this.flags = v ? this.flags | CPU_IDLE : this.flags & ~CPU_IDLE;
  }
  /** In `cpu_online_mask`. */
  get online(): boolean {
    return (this.flags & CPU_ONLINE) !== 0;
  }
  /** Set or clear `online` (a bit of the flags word). */
  set online(v: boolean) {
    this.flags = v ? this.flags | CPU_ONLINE : this.flags & ~CPU_ONLINE;
  }
  /** Has been booted at least once (x86 shorthand rule). */
  get bootedOnce(): boolean {
    return (this.flags & CPU_BOOTED_ONCE) !== 0;
  }
  /** Set or clear `bootedOnce` (a bit of the flags word). */
  set bootedOnce(v: boolean) {
    this.flags = v ? this.flags | CPU_BOOTED_ONCE : this.flags & ~CPU_BOOTED_ONCE;
  }
  /**
   * Takes no interrupt, trap lines included, while interrupts are disabled (a backend's
   * multi-step operation with traps off: sparc's PSTATE.IE clear in a hypercall); see
   * `Interconnect.holdTraps`.
   */
  get trapsHeld(): boolean {
    return (this.flags & CPU_TRAPS_HELD) !== 0;
  }
  /** Set or clear `trapsHeld` (a bit of the flags word). */
  set trapsHeld(v: boolean) {
    this.flags = v ? this.flags | CPU_TRAPS_HELD : this.flags & ~CPU_TRAPS_HELD;
  }
  /**
   * The idle task starts anew after a stopper took the CPU over, or when the CPU comes back up: it
   * goes back to sleep at once, as the sleep it left (no polling window first), unless
   * need_resched was set meanwhile. Read and cleared by the idle task's start.
   */
  get idleResumesAsleep(): boolean {
    return (this.flags & CPU_IDLE_RESUMES_ASLEEP) !== 0;
  }
  /** Set or clear `idleResumesAsleep` (a bit of the flags word). */
  set idleResumesAsleep(v: boolean) {
    this.flags = v ? this.flags | CPU_IDLE_RESUMES_ASLEEP : this.flags & ~CPU_IDLE_RESUMES_ASLEEP;
  }
  /**
   * The CPU is re-sending an IPI from the CSD lock-wait watchdog's report. A wait that ends inside
   * that send (a backend's retry) is not progress: the watchdog's own activity must not end a
   * stall, or a machine whose re-sent IPI runs code on a deadlocked target (sun4v's mondo trap,
   * taken with interrupts off) would never be reported as deadlocked.
   */
  get inWatchdogResend(): boolean {
    return (this.flags & CPU_WATCHDOG_RESEND) !== 0;
  }
  /** Set or clear `inWatchdogResend` (a bit of the flags word). */
  set inWatchdogResend(v: boolean) {
    this.flags = v ? this.flags | CPU_WATCHDOG_RESEND : this.flags & ~CPU_WATCHDOG_RESEND;
  }
  /** The task program has not finished yet. */
  get programRunning(): boolean {
    return (this.flags & CPU_PROGRAM_RUNNING) !== 0;
  }
  /** Set or clear `programRunning` (a bit of the flags word). */
  set programRunning(v: boolean) {
    this.flags = v ? this.flags | CPU_PROGRAM_RUNNING : this.flags & ~CPU_PROGRAM_RUNNING;
  }

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

  /**
   * The frames, innermost last, FRAME_SLOTS slots each (see the F_* offsets): a view for readers
   * (the explorer's state key), refilled at each read into one array the CPU keeps; it is not
   * the storage, so writing to it changes nothing.
   */
  get stack(): unknown[] {
    const out = (this.stackView ??= []);
    out.length = 0;
    for (let i = 0; i < this.depth; i++)
      out.push(
        this.frameCode(i),
        this.frameKind(i),
        this.frameSavedIrqs(i),
        this.frameWait(i),
        this.frameWaitSince(i),
        this.frameLine(i),
      );
    return out;
  }

  /** The code of frame `i` (0 = bottom). */
  frameCode(i: number): CpuCode<unknown> | null {
    if (i === 0) return this.f0Code;
    if (i === 1) return this.f1Code;
    return this.deepFrames[(i - 2) * FRAME_SLOTS + F_CODE] as CpuCode<unknown> | null;
  }

  /** The wait of frame `i` (0 = bottom), or null. */
  frameWait(i: number): Wait | null {
    if (i === 0) return this.f0Wait;
    if (i === 1) return this.f1Wait;
    return this.deepFrames[(i - 2) * FRAME_SLOTS + F_WAIT] as Wait | null;
  }

  /** When frame `i`'s wait began. */
  frameWaitSince(i: number): number {
    if (i === 0) return this.f0WaitSince;
    if (i === 1) return this.f1WaitSince;
    return this.deepFrames[(i - 2) * FRAME_SLOTS + F_WAIT_SINCE] as number;
  }

  /** The FRAME_* kind of frame `i`. */
  frameKind(i: number): number {
    if (i === 0) return this.f0Kind;
    if (i === 1) return this.f1Kind;
    return this.deepFrames[(i - 2) * FRAME_SLOTS + F_KIND] as number;
  }

  /** The interrupt line of frame `i` (-1: not an interrupt frame). */
  frameLine(i: number): number {
    if (i === 0) return this.f0Line;
    if (i === 1) return this.f1Line;
    return this.deepFrames[(i - 2) * FRAME_SLOTS + F_LINE] as number;
  }

  /** The irqsDisabled that frame `i` saved when it was pushed (put back when it returns). */
  frameSavedIrqs(i: number): boolean {
    if (i === 0) return this.f0SavedIrqs;
    if (i === 1) return this.f1SavedIrqs;
    return this.deepFrames[(i - 2) * FRAME_SLOTS + F_SAVED_IRQS] as boolean;
  }

  /** Set frame `i`'s wait and when it began (null: runnable). The machine's; keeps `topWait` as it is. */
  setFrameWait(i: number, w: Wait | null, since: number): void {
    if (i === 0) {
      this.f0Wait = w;
      this.f0WaitSince = since;
    } else if (i === 1) {
      this.f1Wait = w;
      this.f1WaitSince = since;
    } else {
      const b = (i - 2) * FRAME_SLOTS;
      this.deepFrames[b + F_WAIT] = w;
      this.deepFrames[b + F_WAIT_SINCE] = since;
    }
  }

  /** Push a runnable frame (the machine's; it also sets the `top*` mirrors). */
  pushFrame(code: CpuCode<unknown>, kind: number, line: number): void {
    const i = this.depth++;
    const saved = this.irqsDisabled;
    if (i === 0) {
      this.f0Code = code;
      this.f0Kind = kind;
      this.f0SavedIrqs = saved;
      this.f0Wait = null;
      this.f0WaitSince = 0;
      this.f0Line = line;
    } else if (i === 1) {
      this.f1Code = code;
      this.f1Kind = kind;
      this.f1SavedIrqs = saved;
      this.f1Wait = null;
      this.f1WaitSince = 0;
      this.f1Line = line;
    } else {
      const b = (i - 2) * FRAME_SLOTS;
      const st = this.deepFrames;
      st[b + F_CODE] = code;
      st[b + F_KIND] = kind;
      st[b + F_SAVED_IRQS] = saved;
      st[b + F_WAIT] = null;
      st[b + F_WAIT_SINCE] = 0;
      st[b + F_LINE] = line;
    }
    this.topCode = code;
    this.topWait = null;
    this.topWaitHalts = false;
  }

  /**
   * Drop the innermost frame (the machine's, after reading what it needs of it: kind, saved
   * irqs, line) and point the `top*` mirrors at the frame below.
   */
  dropFrame(): void {
    const i = --this.depth;
    if (i === 0) {
      this.f0Code = null;
      this.f0Wait = null;
    } else if (i === 1) {
      this.f1Code = null;
      this.f1Wait = null;
    } else {
      const b = (i - 2) * FRAME_SLOTS;
      this.deepFrames[b + F_CODE] = null;
      this.deepFrames[b + F_WAIT] = null;
    }
    if (i > 0) {
      const w = this.frameWait(i - 1);
      this.topCode = this.frameCode(i - 1);
      this.topWait = w;
      this.topWaitHalts = w !== null && w.wakesOnInterrupt;
    } else {
      this.topCode = null;
      this.topWait = null;
      this.topWaitHalts = false;
    }
  }
}
