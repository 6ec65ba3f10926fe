import type { SmpHandlers } from "../arch/arch-ipi";
import { ENXIO } from "../errors";
import { funcName, type SmpCallFunc } from "../kernel/csd";
import { CpuMask } from "../machine/cpumask";
import type { RunProblem } from "../machine/problems";
import type { CpuCode } from "../machine/step";
import { WaitChannel } from "../machine/step";
import type { SmpSystem } from "../system";
import type { RcuModel } from "./rcu";

/** 2008 call data flag: the caller spins until a receiver clears it (on-stack data). */
export const CSD_FLAG_WAIT_2008 = 0x01;
/** 2008 call data flag: allocated with kmalloc; freed by the receiver (single) or after a grace period (many). */
export const CSD_FLAG_ALLOC_2008 = 0x02;

function isCpuCode(x: unknown): x is CpuCode<void> {
  return typeof x === "object" && x !== null && typeof (x as Generator).next === "function";
}

/**
 * Call data of the 2008 design: a `call_single_data` on a per-CPU queue (single calls), or a
 * `call_function_data` on the global list (many-calls: a target mask and a `refs` count each
 * receiver decrements). Allocated (ALLOC) or on the caller's stack (WAIT: the caller spins on
 * this until the flag clears — it is the wait channel).
 */
export class CallData2008 extends WaitChannel {
  /** Next entry of the global list (kept when the entry is removed, as list_del_rcu does). */
  next: CallData2008 | null = null;
  /** Removed from the global list. */
  unlinked = false;
  /** On-stack data whose caller has returned: its stack frame may hold anything now. */
  released = false;
  /** Allocated data that was freed (kfree, or after its grace period). */
  freed = false;
  constructor(
    /** Sequence number on this machine (named as csd#id in reports). */
    readonly id: number,
    public flags: number,
    readonly func: SmpCallFunc,
    readonly info: unknown,
    /** Sender. */
    readonly src: number,
    /** Target of a single call; -1 for a many-call. */
    readonly dst: number,
    /** Targets that have not run it yet (many-call), else null. */
    readonly mask: CpuMask | null,
    /** Receivers still to run it (many-call). */
    public refs: number,
  ) {
    super();
  }
  /** Allocated on the caller's stack (the fallback), not with kmalloc. */
  get onStack(): boolean {
    return (this.flags & CSD_FLAG_ALLOC_2008) === 0;
  }
  /** The caller still has to wait for it. */
  get waiting(): boolean {
    return (this.flags & CSD_FLAG_WAIT_2008) !== 0;
  }
  blocked(): boolean {
    return this.waiting;
  }
  override get isCsdWait(): boolean {
    return true;
  }
  describe(): string {
    const where =
      this.mask === null
        ? `queued on CPU ${this.dst}`
        : `on the call_function list for CPUs ${this.mask.toString()}`;
    return `on-stack csd#${this.id} (${funcName(this.func)}) ${where} by CPU ${this.src}`;
  }
  override holderCpu(): number {
    if (this.mask === null) return this.dst;
    return this.mask.isEmpty() ? -1 : this.mask.first();
  }
  /** Key of this entry for the explorer (CPU ids renamed by `perm`). */
  key(perm: Int32Array | null): string {
    const name = (c: number) => (c < 0 || perm === null ? c : perm[c]);
    const mask =
      this.mask === null
        ? ""
        : this.mask
            .toArray()
            .map(name)
            .sort((a, b) => a - b)
            .join(".");
    return `${name(this.src)}>${name(this.dst)}:${this.flags}:${mask}:${this.refs}:${this.unlinked ? 1 : 0}${this.released ? 1 : 0}${this.freed ? 1 : 0}`;
  }
}

/** What a caller that polls its own queue spins on: its call data, unless work for it arrives. */
export class PollWait2008 extends WaitChannel {
  /** The call data waited for (set while waiting). */
  data: CallData2008 | null = null;
  constructor(
    private readonly kernel: Kernel2008,
    private readonly cpu: number,
  ) {
    super();
  }
  override get isCsdWait(): boolean {
    return true;
  }
  blocked(): boolean {
    return this.data !== null && this.data.waiting && !this.kernel.hasWorkFor(this.cpu);
  }
  override addWaiter(cpu: number): void {
    super.addWaiter(cpu);
    this.data?.addWaiter(cpu);
  }
  describe(): string {
    return `${this.data?.describe() ?? "nothing"} (polling its own queue)`;
  }
  override holderCpu(): number {
    return this.data?.holderCpu() ?? -1;
  }
}

/**
 * The cross-call data structures of Linux 2.6.26 (spring 2008, kernel-smp.md §9), on the
 * simulated machine, for the explorer's 2008 policies:
 * - single calls go on a per-CPU `call_single_queue` (a list under a spinlock); an IPI only when
 *   the queue was empty;
 * - many-calls go on one global `call_function` list (additions and removals under a global
 *   lock; receivers walk it under RCU): each target runs the entries whose mask holds it, clears
 *   its bit and decrements `refs`; the last one removes the entry and, for allocated data, frees
 *   it after an RCU grace period (`call_rcu`); every target gets an IPI;
 * - call data is allocated (kmalloc GFP_ATOMIC, which the policy asks the explorer's chooser
 *   whether it fails) or, when it fails or the caller waits, lives on the caller's stack and the
 *   caller spins until the receivers are done with it.
 * The critical sections under the spinlocks hold no wait, so each is one atomic step here.
 * Reading call data after it was freed, or after its on-stack owner returned, is recorded as a
 * problem (the window the 2.6.27 "quiesce" step closed). It takes over the receive side of the
 * machine's kernel: one handler for both call-function IPIs walks the list, then drains the
 * single queue.
 */
export class Kernel2008 implements SmpHandlers {
  /** Per CPU: its call_single_queue, oldest first. */
  readonly callSingleQueue: CallData2008[][];
  /** The global call_function list. */
  private head: CallData2008 | null = null;
  private tail: CallData2008 | null = null;
  /** Per CPU: what a poll-own-queue waiter spins on. */
  readonly pollWaits: PollWait2008[];
  /** kmalloc calls, and how many failed. */
  allocations = 0;
  /** Allocations that failed (the caller fell back to on-stack data and waited). */
  allocFailures = 0;
  private readonly problems: RunProblem[] = [];
  private nextId = 1;
  /** Entries already reported as read after they were gone (one report each). */
  private readonly stale = new Set<CallData2008>();

  constructor(
    readonly system: SmpSystem,
    readonly rcu: RcuModel,
  ) {
    const m = system.machine;
    this.callSingleQueue = Array.from({ length: m.nrCpus }, () => []);
    this.pollWaits = Array.from({ length: m.nrCpus }, (_, cpu) => new PollWait2008(this, cpu));
    system.kernel.receiveOverride = this;
    m.addEndOfRunCheck(() => this.endOfRun());
  }

  /** Entries on the global list, oldest first. */
  get callFunctionList(): CallData2008[] {
    const out: CallData2008[] = [];
    for (let e = this.head; e !== null; e = e.next) if (!e.unlinked) out.push(e);
    return out;
  }

  /** Is there a call for `cpu` on its queue or the global list? */
  hasWorkFor(cpu: number): boolean {
    if (this.callSingleQueue[cpu].length > 0) return true;
    for (let e = this.head; e !== null; e = e.next) if (e.mask!.test(cpu)) return true;
    return false;
  }

  // ------------------------------------------------------------------ send side

  /** Call data for a call: kmalloc'd when `allocated`, else on the caller's stack (WAIT). */
  private callData(
    allocated: boolean,
    func: SmpCallFunc,
    dst: number,
    mask: CpuMask | null,
    refs: number,
  ): CallData2008 {
    const self = this.system.machine.current;
    return new CallData2008(
      this.nextId++,
      allocated ? CSD_FLAG_ALLOC_2008 : CSD_FLAG_WAIT_2008,
      func,
      null,
      self,
      dst,
      mask,
      refs,
    );
  }

  /** kmalloc(GFP_ATOMIC) of call data: `fails` is the explorer's choice. Returns whether it succeeded. */
  kmalloc(fails: boolean): boolean {
    this.allocations++;
    if (fails) this.allocFailures++;
    return !fails;
  }

  /**
   * Queue a single call (generic_exec_single): `allocated` data is freed by the receiver;
   * otherwise it is on the stack and the caller must wait for it ({@link waitFor}). Returns the
   * call data, or null when it ran locally or the CPU is offline (`ret` then holds the result).
   */
  *queueSingle(cpu: number, func: SmpCallFunc, allocated: boolean): CpuCode<CallData2008 | number> {
    const m = this.system.machine;
    const k = this.system.kernel;
    k.stats.callsIssued++;
    if (cpu === m.current) {
      const was = m.localIrqSave();
      yield* this.runCallback(func, null);
      m.localIrqRestore(was);
      return 0;
    }
    if (cpu < 0 || cpu >= m.nrCpus || !m.cpus[cpu].online) return -ENXIO;
    const data = this.callData(allocated, func, cpu, null, 1);
    // Under the queue's spinlock (irqsave): one atomic step.
    const q = this.callSingleQueue[cpu];
    const ipi = q.length === 0;
    q.push(data);
    k.stats.csdsQueued++;
    this.arrived(cpu);
    yield m.cost.queueAddNs;
    if (ipi) yield* this.sendIpi(cpu);
    else k.stats.ipisSaved++;
    return data;
  }

  /**
   * Queue a many-call on the global list (smp_call_function_mask): `targets` must not hold the
   * caller and must hold at least two CPUs (one goes through {@link queueSingle}); every target
   * gets an IPI. Returns the call data.
   */
  *queueMany(targets: CpuMask, func: SmpCallFunc, allocated: boolean): CpuCode<CallData2008> {
    const m = this.system.machine;
    const k = this.system.kernel;
    k.stats.callsIssued++;
    const data = this.callData(allocated, func, -1, targets.clone(), targets.weight());
    // list_add_tail_rcu under call_function_lock (irqsave): one atomic step.
    if (this.tail === null) this.head = data;
    else this.tail.next = data;
    this.tail = data;
    k.stats.csdsQueued += data.refs;
    for (const c of targets.toArray()) this.arrived(c);
    yield m.cost.queueAddNs + data.refs * m.cost.perTargetSetupNs;
    k.stats.ipisMask++;
    k.stats.ipiTargets += data.refs;
    k.stats.ipisFrom[m.current] += data.refs;
    yield* this.system.arch.sendCallFunctionIpiMask(targets);
    return data;
  }

  /** csd_flag_wait: spin (interrupts as they are) until the receivers are done with `data`. */
  *waitFor(data: CallData2008): CpuCode<void> {
    if (data.waiting) yield data;
  }

  /** The caller of on-stack `data` returns: its stack frame is reused from now on. */
  returned(data: CallData2008): void {
    if (data.onStack) data.released = true;
  }

  /** A single call as 2.6.26 makes it: queue, and with on-stack data wait, then return. */
  *smpCallFunctionSingle(cpu: number, func: SmpCallFunc, allocated: boolean): CpuCode<number> {
    const d = yield* this.queueSingle(cpu, func, allocated);
    if (typeof d === "number") return d;
    yield* this.waitFor(d);
    this.returned(d);
    return 0;
  }

  /** A many-call as 2.6.26 makes it (smp_call_function_mask): other online targets only; one target is a single call. */
  *smpCallFunctionMask(mask: CpuMask, func: SmpCallFunc, allocated: boolean): CpuCode<number> {
    const targets = this.targetsOf(mask);
    const n = targets.weight();
    if (n === 0) return 0;
    if (n === 1) return yield* this.smpCallFunctionSingle(targets.first(), func, allocated);
    const d = yield* this.queueMany(targets, func, allocated);
    yield* this.waitFor(d);
    this.returned(d);
    return 0;
  }

  /** `mask` ∩ online − the caller. */
  targetsOf(mask: CpuMask): CpuMask {
    const m = this.system.machine;
    const t = new CpuMask(m.nrCpus);
    t.and(mask, m.onlineMask);
    t.clear(m.current);
    return t;
  }

  private *sendIpi(cpu: number): CpuCode<void> {
    const m = this.system.machine;
    const s = this.system.kernel.stats;
    s.ipisSingle++;
    s.ipiTargets++;
    s.ipisFrom[m.current]++;
    yield* this.system.arch.sendCallFunctionSingleIpi(cpu);
  }

  private arrived(cpu: number): void {
    const w = this.pollWaits[cpu];
    if (w.firstWaiter !== -1) this.system.machine.wake(w);
  }

  // ------------------------------------------------------------------ receive side

  /** generic_smp_call_function_interrupt (2.6.26) — here both handlers do both jobs. */
  genericSmpCallFunctionInterrupt(): CpuCode<void> {
    return this.handleIpi();
  }

  /** generic_smp_call_function_single_interrupt (2.6.26) — here both handlers do both jobs. */
  genericSmpCallFunctionSingleInterrupt(): CpuCode<void> {
    return this.handleIpi();
  }

  /**
   * The reschedule IPI's handler (2.6.25's smp_reschedule_interrupt: acknowledge and count),
   * as the machine's kernel does it: it sets nothing, the sender set need_resched first.
   */
  schedulerIpi(): void {
    this.system.kernel.schedulerIpi();
  }

  /** Run what is there for this CPU: walk the global list, then drain the single queue. */
  *handleIpi(): CpuCode<void> {
    const k = this.system.kernel;
    const cpu = this.system.machine.current;
    k.stats.handlerCallsOn[cpu]++;
    k.stats.flushesIrq++;
    yield* this.walkCallFunctionList(cpu);
    yield* this.flushSingleQueue(cpu);
  }

  /** Proposal 5: the waiting caller runs what is there for its CPU itself (no interrupt taken). */
  *runOwnQueue(): CpuCode<void> {
    const cpu = this.system.machine.current;
    yield* this.walkCallFunctionList(cpu);
    yield* this.flushSingleQueue(cpu);
  }

  /**
   * Walk the global list (under rcu_read_lock): run each entry whose mask holds this CPU, clear
   * the bit and drop a ref; the last ref removes the entry and releases it — clears WAIT for
   * on-stack data, frees allocated data after a grace period. Every entry visited costs a step,
   * and the walker reads the entry again to follow its link.
   */
  private *walkCallFunctionList(cpu: number): CpuCode<void> {
    const m = this.system.machine;
    let e = this.head;
    while (e !== null) {
      this.touch(e, cpu);
      if (e.mask!.test(cpu)) {
        yield* this.runCallback(e.func, e.info);
        // data->lock: clear our bit, drop our ref.
        e.mask!.clear(cpu);
        e.refs--;
        if (e.refs === 0) {
          this.unlink(e);
          if (e.waiting) {
            e.flags &= ~CSD_FLAG_WAIT_2008;
            m.wake(e);
          } else {
            const dead = e;
            this.rcu.callRcu(() => (dead.freed = true));
          }
        }
      }
      yield m.cost.tinyNs;
      this.touch(e, cpu);
      e = e.next;
    }
  }

  /** list_del_rcu under call_function_lock: the entry keeps its link for walkers on it. */
  private unlink(e: CallData2008): void {
    let prev: CallData2008 | null = null;
    for (let x = this.head; x !== null && x !== e; x = x.next) if (!x.unlinked) prev = x;
    e.unlinked = true;
    if (prev === null) this.head = e.next;
    else prev.next = e.next;
    if (this.tail === e) this.tail = prev;
  }

  /** Drain this CPU's single queue: run each entry; clear WAIT (on-stack) or kfree (allocated). */
  private *flushSingleQueue(cpu: number): CpuCode<void> {
    const m = this.system.machine;
    const q = this.callSingleQueue[cpu];
    while (q.length > 0) {
      const list = q.splice(0, q.length);
      for (const d of list) {
        this.touch(d, cpu);
        yield* this.runCallback(d.func, d.info);
        if (d.waiting) {
          d.flags &= ~CSD_FLAG_WAIT_2008;
          m.wake(d);
        } else d.freed = true;
      }
    }
  }

  private *runCallback(func: SmpCallFunc, info: unknown): CpuCode<void> {
    const m = this.system.machine;
    const s = this.system.kernel.stats;
    const r = func(info, m.current);
    if (isCpuCode(r)) yield* r;
    else yield m.cost.callbackNs;
    s.callbacksRun++;
    s.callbacksOn[m.current]++;
  }

  /** A receiver reads `e`: a problem if it was freed, or its on-stack owner returned. */
  private touch(e: CallData2008, cpu: number): void {
    if ((!e.freed && !e.released) || this.stale.has(e)) return;
    this.stale.add(e);
    const m = this.system.machine;
    this.problems.push({
      kind: "invariant",
      time: m.now,
      cpu,
      message: e.freed
        ? `CPU ${cpu} read call data (${funcName(e.func)}) from CPU ${e.src} after it was freed`
        : `CPU ${cpu} read on-stack call data (${funcName(e.func)}) after CPU ${e.src}'s call returned and its stack frame was reused (the walker was still on the entry)`,
    });
  }

  /** Problems found: stale reads during the run; calls still queued at its end. */
  private endOfRun(): RunProblem[] {
    const out = [...this.problems];
    const m = this.system.machine;
    for (let cpu = 0; cpu < m.nrCpus; cpu++)
      if (this.callSingleQueue[cpu].length > 0)
        out.push({
          kind: "lost-call",
          time: m.now,
          cpu,
          message: `CPU ${cpu}'s call_single_queue still holds ${this.callSingleQueue[cpu].length} call(s) at the end of the run`,
        });
    for (const e of this.callFunctionList)
      out.push({
        kind: "lost-call",
        time: m.now,
        cpu: e.src,
        message: `the call_function list still holds CPU ${e.src}'s call (${funcName(e.func)}) for CPUs ${e.mask!.toString()} at the end of the run`,
      });
    return out;
  }

  /** The state the explorer keys on (CPU ids renamed by `perm`): queues, list, RCU callbacks, and whether a stale read of call data was seen. */
  stateKey(perm: Int32Array | null = null): string {
    const n = this.callSingleQueue.length;
    const queues: string[] = new Array<string>(n);
    for (let cpu = 0; cpu < n; cpu++)
      queues[perm === null ? cpu : perm[cpu]] = this.callSingleQueue[cpu].map((d) => d.key(perm)).join(",");
    const list = this.callFunctionList.map((d) => d.key(perm)).join(",");
    // A stale read of call data found mid-run (see touch) is reported only at the end of the
    // run: it is part of the state, or a run that made one and then converged with a clean run
    // would be pruned unchecked.
    return `${queues.join(";")}|${list}|${this.rcu.stateKey(perm)}${this.problems.length > 0 ? "|stale" : ""}`;
  }
}
