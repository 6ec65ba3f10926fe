import type { CpuCode } from "../machine/step";
import type { CallCompletion } from "./call-completion";
import { WaitChannel } from "../machine/step";

/** The csd is in flight: its owner must not reuse it until the flag clears. */
export const CSD_FLAG_LOCK = 0x01;
/** Type field (bits 4-7) of the flags word. */
export const CSD_FLAG_TYPE_MASK = 0xf0;
/** Fire-and-forget: unlocked before the callback runs. */
export const CSD_TYPE_ASYNC = 0x00;
/** Someone spins on it: unlocked after the callback returns. */
export const CSD_TYPE_SYNC = 0x10;
/** irq_work entry carried by the same queue (`irqWorkQueueOn`): run in the second flush pass. */
export const CSD_TYPE_IRQ_WORK = 0x20;
/** Remote task wake-up carried by the same queue (`ttwuQueueWakelist`): run in one batch, third pass. */
export const CSD_TYPE_TTWU = 0x30;

/**
 * A cross-call callback (`smp_call_func_t`). It runs with interrupts disabled on the target CPU
 * and gets `info` and, for convenience, the CPU it runs on (also `smpProcessorId()`). A plain
 * function is one atomic step; a generator function may take several steps (e.g. spin).
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type SmpCallFunc<I = any> = (info: I, cpu: number) => void | CpuCode<void>;

/** A condition filter for the `_cond` variants: true to call on `cpu`. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type SmpCondFunc<I = any> = (cpu: number, info: I) => boolean;

/**
 * When each csd of a kernel was queued and last unlocked: two doubles per csd id in one growable
 * typed array, not two number fields per csd object. A time in ns is no small integer to V8, so
 * such a field points to a heap number of its own (16 bytes more per field, and one more cache
 * line to touch); a 8192-CPU machine with 64 broadcasters has half a million csds alive.
 */
export class CsdTimes {
  private t: Float64Array;

  constructor(capacity = 64) {
    this.t = new Float64Array(2 * capacity);
  }

  /** Make room for csd `id` (a non-negative integer); called when the csd is created. */
  reserve(id: number): void {
    const need = 2 * id + 2;
    // Growing to exactly `need`, or one step early, changes only how often the table is copied.
    // Stryker disable next-line EqualityOperator: equivalent mutants (see above)
    if (need <= this.t.length) return;
    // Stryker disable next-line MethodExpression,ArithmeticOperator: equivalent mutants (see above)
    const t = new Float64Array(Math.max(need, 2 * this.t.length));
    t.set(this.t);
    this.t = t;
  }

  /** When csd `id` was last queued (ns). */
  queuedAt(id: number): number {
    return this.t[2 * id];
  }

  /** Record when csd `id` is queued. */
  setQueuedAt(id: number, ns: number): void {
    this.t[2 * id] = ns;
  }

  /** When csd `id` was last unlocked (ns). */
  unlockedAt(id: number): number {
    return this.t[2 * id + 1];
  }

  /** Record when csd `id` is unlocked. */
  setUnlockedAt(id: number, ns: number): void {
    this.t[2 * id + 1] = ns;
  }
}

/** The times of csds made without a kernel's table (tests that build queue entries by hand). */
const looseCsdTimes = new CsdTimes();

/**
 * call_single_data: one request to run `func(info)` on one CPU; also the condition its owner
 * spins on (blocked while CSD_FLAG_LOCK is set).
 */
export class CallSingleData extends WaitChannel {
  override get isCsdWait(): boolean {
    return true;
  }
  // Field order is memory order (after the channel's waiter fields): what the target's flush
  // reads and writes comes first (it takes the csd from the queue, runs it, unlocks it), so on a
  // big machine, where each target's csd is a cache miss, it spans as few lines as possible.
  /** Flags word: CSD_FLAG_LOCK and the type. Unlocking stores 0. */
  flags = 0;
  /** llist link in the target's call_single_queue. */
  next: CallSingleData | null = null;
  func: SmpCallFunc | null;
  info: unknown;
  /** The waiting many-call this SYNC csd belongs to (counted down on unlock), or null. */
  completion: CallCompletion | null = null;
  /** Unique id (the kernel prints the csd's address; we print this). */
  readonly id: number;
  /** The table its times live in, by `id` (its kernel's; ids are unique per table). */
  readonly times: CsdTimes;
  /** Sender CPU of the current use (csd debug `node.src`). */
  src = -1;
  /** Target CPU of the current use (csd debug `node.dst`). */
  dst = -1;
  /**
   * Where the csd lives: `cfd_data`, `csd_data`, `stack` (of CPU ownerCpu), `caller`, or the
   * node of an irq_work (`irq_work`) or a task's wake entry (`task`).
   */
  readonly owner: "cfd_data" | "csd_data" | "stack" | "caller" | "irq_work" | "task";
  /** The CPU whose per-CPU data or stack holds it (-1 for caller-owned). */
  readonly ownerCpu: number;

  /**
   * @param id unique id (the kernel prints the csd's address; we print this)
   * @param owner where the csd lives: `cfd_data`, `csd_data`, `stack` (of CPU ownerCpu), `caller`,
   *   or the node of an irq_work (`irq_work`) or a task's wake entry (`task`)
   * @param ownerCpu the CPU whose per-CPU data or stack holds it (-1 for caller-owned)
   * @param times the table its times live in, by `id` (its kernel's; ids are unique per table)
   */
  constructor(
    id: number,
    owner: "cfd_data" | "csd_data" | "stack" | "caller" | "irq_work" | "task",
    ownerCpu: number,
    func: SmpCallFunc | null = null,
    info: unknown = undefined,
    times: CsdTimes = looseCsdTimes,
  ) {
    super();
    this.id = id;
    this.owner = owner;
    this.ownerCpu = ownerCpu;
    this.times = times;
    this.func = func;
    this.info = info;
    times.reserve(id);
  }

  /** When it was queued (ns), for latency. */
  get queuedAt(): number {
    return this.times.queuedAt(this.id);
  }
  /** Record when it is queued (ns). */
  set queuedAt(ns: number) {
    this.times.setQueuedAt(this.id, ns);
  }

  /** When it was last unlocked (ns): where the next csd wait of a many-call starts its clock. */
  get unlockedAt(): number {
    return this.times.unlockedAt(this.id);
  }
  /** Record when it is unlocked (ns). */
  set unlockedAt(ns: number) {
    this.times.setUnlockedAt(this.id, ns);
  }

  /** Pointer-like text for traces, e.g. `000000000000002a`. */
  get hex(): string {
    return this.id.toString(16).padStart(16, "0");
  }

  /** CSD_FLAG_LOCK set? */
  get locked(): boolean {
    return (this.flags & CSD_FLAG_LOCK) !== 0;
  }

  /** CSD_TYPE_* of the current use. */
  get type(): number {
    return this.flags & CSD_FLAG_TYPE_MASK;
  }

  blocked(): boolean {
    return (this.flags & CSD_FLAG_LOCK) !== 0;
  }

  override holderCpu(): number {
    return this.dst;
  }

  describe(): string {
    return `csd#${this.id} (${funcName(this.func)}) queued on CPU ${this.dst} by CPU ${this.src}`;
  }
}

/** A callback's name for traces and reports (`%ps`). */
export function funcName(func: SmpCallFunc | null | undefined): string {
  if (!func) return "(null)";
  return func.name || "anonymous";
}
