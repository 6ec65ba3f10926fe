import { InvalidArgumentError } from "../errors";
import type { ArchDescriptor } from "../arch/descriptor";
import type { ArchOptionValues } from "../arch/options";
import type { Machine } from "../machine/machine";
import { createSharedMemory } from "../memory/create";
import type { AccessOrder, BarrierKind, Location, MemoryModelName, SharedMemory } from "../memory/model";
import { MEMORY_MODELS } from "../memory/model";
import { CSD_FLAG_LOCK, CSD_FLAG_TYPE_MASK, CSD_TYPE_TTWU, funcName, type CallSingleData } from "./csd";

/** One ordering point of the kernel model that `--drop-barrier` can remove. */
export interface KernelBarrier {
  /** Stable name, `function:barrier` (e.g. `csd_unlock:release`). */
  readonly name: string;
  /** Where 6.1 has it (file and function). */
  readonly where: string;
  /** What it orders, in a sentence. */
  readonly orders: string;
}

/**
 * The ordering points of kernel/smp.c and the idle loop (6.1) that the kernel model carries, in
 * source order. A backend may add its own send-side fence (see `ArchDescriptor.ipiSendFence`).
 */
export const KERNEL_BARRIERS: readonly KernelBarrier[] = [
  {
    name: "csd_lock_wait:acquire",
    where: "kernel/smp.c csd_lock_wait (smp_cond_load_acquire)",
    orders: "the waiter's later reads (results, the csd's reuse) after the unlock it saw",
  },
  {
    name: "csd_lock:smp_wmb",
    where: "kernel/smp.c csd_lock",
    orders: "the lock bit before the func/info stores that follow",
  },
  {
    name: "smp_call_function_single_async:smp_wmb",
    where: "kernel/smp.c smp_call_function_single_async",
    orders: "the caller-owned csd's lock bit before the queueing that follows",
  },
  {
    name: "llist_add:fully-ordered",
    where:
      "lib/llist.c llist_add_batch (try_cmpxchg loop), from __smp_call_single_queue and smp_call_function_many_cond",
    orders: "the csd's flags/func/info before the queue add; the add before the polling check and the IPI",
  },
  {
    name: "llist_del_all:fully-ordered",
    where: "include/linux/llist.h llist_del_all (xchg), from __flush_smp_call_function_queue",
    orders: "the taking of the queue before the reads of each csd's flags/func/info",
  },
  {
    name: "csd_unlock:release",
    where: "kernel/smp.c csd_unlock (smp_store_release)",
    orders: "everything the callback wrote before the unlock",
  },
  {
    name: "set_nr_if_polling:fully-ordered",
    where: "kernel/sched/core.c set_nr_if_polling (try_cmpxchg), from send_call_function_single_ipi",
    orders: "the queue add before need_resched is set on the polling idle task",
  },
  {
    name: "current_clr_polling_and_test:smp_mb__after_atomic",
    where: "include/linux/sched/idle.h current_clr_polling_and_test, before hlt",
    orders: "clearing the polling bit before testing need_resched",
  },
  {
    name: "do_idle:smp_mb__after_atomic",
    where: "kernel/sched/idle.c do_idle, after __current_clr_polling",
    orders: "clearing the polling bit before flush_smp_call_function_queue reads the queue",
  },
];

/** Bits of the idle task's thread_info flags word. */
const TIF_POLLING_NRFLAG = 1;
const TIF_NEED_RESCHED = 2;

/** A csd's locations and the version of its func/info the owner wrote last. */
interface CsdLocations {
  readonly flags: Location;
  /** func and info as one word: the use number that wrote them. */
  readonly fields: Location;
  version: number;
}

/**
 * The kernel model's shared state as the memory layer sees it: per csd its flags word and its
 * func/info (as a use number), per CPU its call queue's head (as an entry count) and its idle
 * task's flags word (polling, need_resched). The kernel calls these hooks where smp.c and the
 * idle loop access that state, each with the ordering 6.1 gives it; the JavaScript structures
 * stay the model's bookkeeping, the layer decides what a CPU *reads*: a queue it finds empty, a
 * polling bit it sees, a func/info it takes from a csd. A read older than the writer's is
 * reported as a `stale-read` problem.
 *
 * Under `sc` the kernel never calls the hooks (it tests {@link weak} once), so nothing is
 * allocated per csd; only scenario data ({@link data}) lives here then.
 */
export class KernelMemory {
  /** The shared memory of this machine. */
  readonly memory: SharedMemory;
  /** True for `tso` and `lkmm`: the kernel routes its shared state through these hooks. */
  readonly weak: boolean;
  /** The backend's send-side fence (e.g. `x2apic:weak_wrmsr_fence`), or null. */
  readonly sendFence: string | null;
  private readonly dropped: ReadonlySet<string>;
  private readonly tso: boolean;
  private readonly csds = new Map<CallSingleData, CsdLocations>();
  private readonly queueHeads: Location[] = [];
  private readonly idleFlags: Location[] = [];
  private readonly dataLocs = new Map<string, Location>();
  /** Stale reads seen (each also reported as a problem). */
  staleReads = 0;

  constructor(
    private readonly machine: Machine,
    model: MemoryModelName = "sc",
    dropBarriers: readonly string[] = [],
    sendFence: string | null = null,
  ) {
    if (!MEMORY_MODELS.includes(model))
      throw new InvalidArgumentError(
        `unknown memory model ${JSON.stringify(model)}: use ${MEMORY_MODELS.join(", ")}`,
      );
    this.sendFence = sendFence;
    const known = barrierNames(sendFence);
    for (const name of dropBarriers)
      if (!known.includes(name))
        throw new InvalidArgumentError(
          `unknown barrier ${JSON.stringify(name)}: this machine's barriers are ${known.join(", ")} (smpcall explore --barriers lists them)`,
        );
    this.dropped = new Set(dropBarriers);
    this.memory = createSharedMemory(model, machine.nrCpus, {
      chooseInt: (n, tag) => machine.chooser.chooseInt(n, tag),
    });
    this.weak = model !== "sc";
    this.tso = model === "tso";
  }

  /** The memory model's name. */
  get model(): MemoryModelName {
    return this.memory.model;
  }

  /** Is barrier `name` dropped in this run? */
  isDropped(name: string): boolean {
    return this.dropped.has(name);
  }

  /** Barriers dropped in this run, in the order of {@link barrierNames}. */
  get droppedBarriers(): string[] {
    return barrierNames(this.sendFence).filter((n) => this.dropped.has(n));
  }

  // ------------------------------------------------------------------ primitives

  private order(name: string, order: AccessOrder): AccessOrder {
    return this.dropped.has(name) ? "plain" : order;
  }

  private fence(cpu: number, name: string, kind: BarrierKind): void {
    if (!this.dropped.has(name)) this.memory.barrier(cpu, kind);
  }

  /**
   * tso: before `cpu` reads shared memory, the other CPUs' buffered stores may drain; how many
   * of each is a choice (option 0: all of them, the sequentially consistent outcome).
   */
  private drains(cpu: number): void {
    if (!this.tso) return;
    const mem = this.memory;
    const ch = this.machine.chooser;
    for (let other = 0; other < this.machine.nrCpus; other++) {
      if (other === cpu) continue;
      const pending = mem.pendingDrains(other);
      if (pending === 0) continue;
      const keep = ch.chooseInt(pending + 1, `drain CPU ${other}`);
      for (let i = keep; i < pending; i++) mem.drainOne(other);
    }
  }

  private readAt(cpu: number, loc: Location, order: AccessOrder): number {
    this.drains(cpu);
    return this.memory.load(cpu, loc, order);
  }

  private rmwAt(
    cpu: number,
    loc: Location,
    update: (old: number) => number | undefined,
    relaxed: boolean,
  ): number {
    this.drains(cpu);
    return this.memory.rmw(cpu, loc, update, relaxed);
  }

  /** A non-value-returning atomic (set_bit, clear_bit): unordered in LKMM, a locked op on x86. */
  private atomicOp(cpu: number, loc: Location, update: (old: number) => number): void {
    this.rmwAt(cpu, loc, update, !this.tso);
  }

  private stale(cpu: number, what: string): void {
    this.staleReads++;
    const m = this.machine;
    m.reportProblem({ kind: "stale-read", time: m.now, cpu, message: `CPU ${cpu} ${what}` });
  }

  // ------------------------------------------------------------------ csd

  private csd(csd: CallSingleData): CsdLocations {
    let l = this.csds.get(csd);
    if (l === undefined) {
      const mem = this.memory;
      l = {
        flags: mem.location(`csd#${csd.id}.flags`, 0),
        fields: mem.location(`csd#${csd.id}.func`, 0),
        version: 0,
      };
      this.csds.set(csd, l);
    }
    return l;
  }

  /** csd_lock_wait ended (or found the csd unlocked): the acquire load that saw the unlock. */
  csdLockWaitDone(cpu: number, csd: CallSingleData): void {
    this.drains(cpu);
    this.memory.loadNewest(cpu, this.csd(csd).flags, this.order("csd_lock_wait:acquire", "acquire"));
  }

  /** csd_lock after its wait: store the lock bit, then `smp_wmb`. */
  csdLock(cpu: number, csd: CallSingleData): void {
    this.memory.store(cpu, this.csd(csd).flags, CSD_FLAG_LOCK);
    this.fence(cpu, "csd_lock:smp_wmb", "wmb");
  }

  /** A plain store of the whole flags word (`|= CSD_TYPE_SYNC`, the on-stack initialiser). */
  csdSetFlags(cpu: number, csd: CallSingleData, flags: number): void {
    this.memory.store(cpu, this.csd(csd).flags, flags);
  }

  /** smp_call_function_single_async: `csd->flags = CSD_FLAG_LOCK; smp_wmb();`. */
  csdAsyncLock(cpu: number, csd: CallSingleData, flags: number): void {
    this.memory.store(cpu, this.csd(csd).flags, flags);
    this.fence(cpu, "smp_call_function_single_async:smp_wmb", "wmb");
  }

  /**
   * irq_work_claim: `atomic_fetch_or` of the pending, busy and type bits `flags` (a fully ordered
   * RMW). False when the word it read had the pending bit: the claim fails, nothing is queued.
   */
  irqWorkClaim(cpu: number, work: CallSingleData, flags: number): boolean {
    return (this.rmwAt(cpu, this.csd(work).flags, (old) => old | flags, false) & CSD_FLAG_LOCK) === 0;
  }

  /** irq_work_single: the `smp_mb` between clearing the pending bit and calling the work's func. */
  irqWorkSingleMb(cpu: number): void {
    this.memory.barrier(cpu, "mb");
  }

  /**
   * smp_call_function_single_async's test of the lock bit (a plain load): true when the word read
   * still has it (-EBUSY), as a target's unlock not yet visible here leaves it.
   */
  csdAsyncReadLocked(cpu: number, csd: CallSingleData): boolean {
    return (this.readAt(cpu, this.csd(csd).flags, "plain") & CSD_FLAG_LOCK) !== 0;
  }

  /** The owner writes func and info for a new use of the csd. */
  csdSetFields(cpu: number, csd: CallSingleData): void {
    const l = this.csd(csd);
    this.memory.store(cpu, l.fields, ++l.version);
  }

  /**
   * The target reads the csd's type and func/info after taking it off its queue (plain loads);
   * a value older than the owner wrote for this use is a stale read.
   */
  csdReadFields(cpu: number, csd: CallSingleData): void {
    // A task's wake entry: the kernel writes its type once, when the task is made, and nothing at
    // a wake-up (the model's lock bit is its own record of a queued wake-up): nothing to read stale.
    if ((csd.flags & CSD_FLAG_TYPE_MASK) === CSD_TYPE_TTWU) return;
    const l = this.csd(csd);
    const flags = this.readAt(cpu, l.flags, "plain");
    const version = this.readAt(cpu, l.fields, "plain");
    if (version !== l.version)
      this.stale(
        cpu,
        `read csd#${csd.id}'s func/info (${funcName(csd.func)}) as use ${version} left it, not use ${l.version} from CPU ${csd.src}: the callback would run with stale func/info`,
      );
    else if (flags !== csd.flags)
      this.stale(
        cpu,
        `read csd#${csd.id}'s flags as 0x${flags.toString(16)}, not 0x${csd.flags.toString(16)} as CPU ${csd.src} wrote them: ${
          (flags & CSD_FLAG_LOCK) === 0
            ? "its csd_unlock would warn that the csd is not locked"
            : "it would take the call for the wrong type"
        }`,
      );
  }

  /** csd_unlock: `smp_store_release(&flags, 0)`. */
  csdUnlock(cpu: number, csd: CallSingleData): void {
    this.memory.store(cpu, this.csd(csd).flags, 0, this.order("csd_unlock:release", "release"));
  }

  // ------------------------------------------------------------------ call queue

  private head(cpu: number): Location {
    return (this.queueHeads[cpu] ??= this.memory.location(`call_single_queue[${cpu}]`, 0));
  }

  /** llist_add on `target`'s queue by `cpu`: true when the queue was empty (an IPI is due). */
  queueAdd(cpu: number, target: number): boolean {
    const relaxed = this.dropped.has("llist_add:fully-ordered");
    return this.rmwAt(cpu, this.head(target), (n) => n + 1, relaxed) === 0;
  }

  /** llist_del_all on `cpu`'s own queue: how many entries it took (0: the CPU found it empty). */
  queueDelAll(cpu: number): number {
    const relaxed = this.dropped.has("llist_del_all:fully-ordered");
    return this.rmwAt(cpu, this.head(cpu), () => 0, relaxed);
  }

  /** llist_empty (a plain load of the head), as flush_smp_call_function_queue tests it. */
  queueEmpty(cpu: number): boolean {
    return this.readAt(cpu, this.head(cpu), "once") === 0;
  }

  // ------------------------------------------------------------------ idle task flags

  private idle(cpu: number): Location {
    return (this.idleFlags[cpu] ??= this.memory.location(`idle[${cpu}].flags`, 0));
  }

  /** __current_set_polling (set_bit) on the idle CPU. */
  idleSetPolling(cpu: number): void {
    this.atomicOp(cpu, this.idle(cpu), (f) => f | TIF_POLLING_NRFLAG);
  }

  /**
   * current_clr_polling_and_test before a halt: clear_bit, `smp_mb__after_atomic`, read
   * need_resched. The read is made (its drains and view are part of the run) but the idle loop
   * decides on the CPU's own need_resched flag: the sender sets that flag in the same step as its
   * RMW on this word, and the clear above is an RMW too, so by coherence the read returns the flag.
   */
  idleClrPollingAndTest(cpu: number): void {
    this.atomicOp(cpu, this.idle(cpu), (f) => f & ~TIF_POLLING_NRFLAG);
    this.fence(cpu, "current_clr_polling_and_test:smp_mb__after_atomic", "mb__after_atomic");
    this.readAt(cpu, this.idle(cpu), "once");
  }

  /** do_idle on its way out: __current_clr_polling, then `smp_mb__after_atomic` (the flush follows). */
  idleExit(cpu: number): void {
    this.atomicOp(cpu, this.idle(cpu), (f) => f & ~TIF_POLLING_NRFLAG);
    this.fence(cpu, "do_idle:smp_mb__after_atomic", "mb__after_atomic");
  }

  /**
   * current_clr_polling on an idle CPU an interrupt woke from MWAIT: clear the polling bit, then
   * a full barrier (need_resched is checked after the bit is clear). The machine clears the CPU's
   * own flag at that point; this keeps the word other CPUs read in step with it.
   */
  idleClrPollingOnWake(cpu: number): void {
    this.atomicOp(cpu, this.idle(cpu), (f) => f & ~TIF_POLLING_NRFLAG);
    this.memory.barrier(cpu, "mb");
  }

  /** need_resched set on an idle CPU by a stop_machine's wake-up of its stopper (see `Machine.idleFlagHooks`). */
  idleSetNeedResched(cpu: number): void {
    this.atomicOp(cpu, this.idle(cpu), (f) => f | TIF_NEED_RESCHED);
  }

  /** schedule_idle clears need_resched after the flush. */
  idleClearNeedResched(cpu: number): void {
    this.atomicOp(cpu, this.idle(cpu), (f) => f & ~TIF_NEED_RESCHED);
  }

  /**
   * set_nr_if_polling(rq->idle of `target`) by `cpu`: READ_ONCE of the flags; not polling: false
   * (send the IPI); need_resched already set: true; else a cmpxchg that sets need_resched if the
   * polling bit is still there. True: the idle task will flush its queue, no IPI.
   */
  setNrIfPolling(cpu: number, target: number): boolean {
    const loc = this.idle(target);
    const seen = this.readAt(cpu, loc, "once");
    if ((seen & TIF_POLLING_NRFLAG) === 0) return false;
    if ((seen & TIF_NEED_RESCHED) !== 0) return true;
    const relaxed = this.dropped.has("set_nr_if_polling:fully-ordered");
    const old = this.rmwAt(
      cpu,
      loc,
      (f) => ((f & TIF_POLLING_NRFLAG) !== 0 ? f | TIF_NEED_RESCHED : undefined),
      relaxed,
    );
    return (old & TIF_POLLING_NRFLAG) !== 0;
  }

  /**
   * Just before the arch send of a call-function IPI: the backend's fence (if it declares one
   * and it is not dropped); a backend that declares none sends in order with earlier stores (an
   * MMIO write, a hypercall), as if fenced.
   */
  beforeArchSend(cpu: number): void {
    if (this.sendFence === null || !this.dropped.has(this.sendFence)) this.memory.barrier(cpu, "mb");
  }

  // ------------------------------------------------------------------ scenario data

  /** A named location for scenario code (e.g. what a callback writes and its caller reads). */
  data(name: string, initial = 0): Location {
    let loc = this.dataLocs.get(name);
    if (loc === undefined) this.dataLocs.set(name, (loc = this.memory.location(`data:${name}`, initial)));
    return loc;
  }

  /** A store to scenario data `name` by the running CPU. */
  store(name: string, value: number, order: AccessOrder = "once"): void {
    this.memory.store(this.machine.smpProcessorId(), this.data(name), value, order);
  }

  /** A load of scenario data `name` by the running CPU (a choice under the weak models). */
  load(name: string, order: AccessOrder = "once"): number {
    return this.readAt(this.machine.smpProcessorId(), this.data(name), order);
  }

  /** The memory state, for the explorer's state cache. */
  stateKey(): string {
    return this.memory.stateKey();
  }
}

/** The barrier names of a machine whose backend declares `sendFence` (null: none). */
export function barrierNames(sendFence: string | null): string[] {
  const names = KERNEL_BARRIERS.map((b) => b.name);
  if (sendFence !== null) names.push(sendFence);
  return names;
}

/** The barrier names of a machine with backend `desc` (options parsed) and `cpus` CPUs. */
export function machineBarrierNames(desc: ArchDescriptor, options: ArchOptionValues, cpus: number): string[] {
  return barrierNames(desc.ipiSendFence?.(options, cpus) ?? null);
}
