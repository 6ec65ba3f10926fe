import { inject, injectable } from "tsyringe";
import {
  ArchOptionsToken,
  FaultInjectorToken,
  InterconnectToken,
  MachineToken,
  SmpHandlersToken,
  TraceToken,
  cpulistOption,
  WaitChannel,
  type ArchIpi,
  type ArchOptionValues,
  type ArchStatistics,
  type CpuCode,
  type CpuMask,
  type FaultInjector,
  type Interconnect,
  type Machine,
  type SmpHandlers,
  type TraceSink,
} from "@smpcall/core";
import {
  CHEETAH_MAX_TARGETS,
  CPU_LIST_DONE,
  HV_ECPUERROR,
  HV_ENOCPU,
  HV_EOK,
  HV_EWOULDBLOCK,
  LINE_MONDO,
  LINE_SOFTINT_CALL_FUNC,
  LINE_SOFTINT_RESCHED,
  LINE_SOFTINT_SINGLE,
  MondoRetryState,
  mondoRetryDelayNs,
  SOFTINT_OF_XCALL,
  SUN4U_STUCK_POLLS,
  XCALL_CALL_FUNCTION,
  XCALL_CALL_FUNCTION_SINGLE,
  XCALL_NAMES,
  XCALL_RECEIVE_SIGNAL,
} from "./hypervisor";
import { HandlerFramePool } from "@smpcall/core";
import { MondoQueues } from "./mondo-queues";

/** sun4v (hypervisor) or sun4u (interrupt dispatch registers). */
export type SparcPlatform = "sun4v" | "sun4u-cheetah" | "sun4u-spitfire";

/**
 * A sender's `udelay` inside its cross-call: the kernel spins on the tick counter with PIL
 * raised but PSTATE.IE set, so a mondo arriving meanwhile is taken at once (its trap only sets a
 * softint) and the delay still ends at its deadline, whatever the trap cost. Modelled as a wait
 * that a hardware event ends: scheduled early by the machine's spin-wake cost, so the CPU resumes
 * exactly at the deadline; a CPU that comes back from a trap after the event goes on at once.
 * The event, not the clock, ends it (the explorer fires events in any order).
 */
class UdelayWait extends WaitChannel {
  /** The delay's event has fired. */
  private done = true;
  private readonly fire = (): void => {
    this.done = true;
    if (this.hasWaiters) this.machine.wake(this);
  };

  constructor(
    private readonly machine: Machine,
    private readonly wires: Interconnect,
    private readonly cpu: number,
  ) {
    super();
  }

  /** Start a delay of `ns` (more than the machine's spin-wake cost); yield this wait next. */
  start(ns: number): this {
    this.done = false;
    this.wires.schedule(ns - this.machine.cost.spinWakeNs, this.fire);
    return this;
  }

  blocked(): boolean {
    return !this.done;
  }

  describe(): string {
    return `udelay in a cross-call on CPU ${this.cpu}`;
  }
}

/**
 * A sender inside `cpu_mondo_send` while the hypervisor walks its CPU list (hardware acting on
 * its own, one machine callback per entry): the sender is busy in the hypercall, not spinning,
 * and the wait ends when the walk has visited every entry. One per sender, reused.
 */
class MondoSendCall extends WaitChannel {
  /** The walk has visited every entry. */
  done = true;
  list: Int32Array = new Int32Array(0);
  cnt = 0;
  xcall = 0;
  /** Index in `list` of the next entry to visit. */
  next = 0;
  error = false;
  noCpu = false;
  block = false;
  /** Visits the next entry (set by the backend, allocated once per sender). */
  step: () => void = () => {};

  constructor(readonly cpu: number) {
    super();
  }

  override get countsAsBusy(): boolean {
    return true;
  }

  blocked(): boolean {
    return !this.done;
  }

  describe(): string {
    return `the cpu_mondo_send hypercall on CPU ${this.cpu} (the hypervisor walking its CPU list)`;
  }

  /** The hypercall's status from what the walk met (HV_EOK when every entry was delivered). */
  status(): number {
    return this.error ? HV_ECPUERROR : this.noCpu ? HV_ENOCPU : this.block ? HV_EWOULDBLOCK : HV_EOK;
  }
}

/**
 * sparc64 cross-calls. A cross-call carries data (the handler in word 0) in the sender's mondo
 * block plus a list of target CPUs.
 *
 * Receive: `local_irq_disable` raises PIL, which does not mask the cpu-mondo trap, so a CPU with
 * interrupts "off" still takes it (the mondo line is a machine trap line). One trap takes one
 * queue entry — advancing the head frees the slot, the acknowledgement — and sets the soft
 * interrupt of its handler; another trap follows while entries remain. Only the softint waits for
 * interrupts to be enabled; softint bits coalesce like an IRR bit. A CPU in `trapStallCpus` is
 * stuck in the hypervisor for `trapStallNs` from the start: it takes no trap, so its queue (or
 * sun4u incoming register) stays full and senders see would-block / NACK.
 *
 * sun4v `hypervisor_xcall_deliver`: one `cpu_mondo_send` per try for the whole list (the
 * hypervisor walks the list with traps off, `hvTargetNs` per entry, and delivers each entry as it
 * reaches it, as the OpenSPARC hypervisor's loop does); delivered entries are marked done and the
 * list repacked; CPUs in error (HV_ECPUERROR) and offline CPUs
 * (HV_ENOCPU) are dropped and the last one reported; the wait (2 µs per initial target, 2..100
 * µs) is spent only after a try that delivered no more than the one before; a busy first target
 * counts as progress; no progress past the retry limit is a mondo timeout: the kernel panics.
 *
 * sun4u: Cheetah dispatches up to 32 targets, polls until no BUSY bit, and re-dispatches the
 * NACKed ones after 2 µs × the slots of the batch, without limit; Spitfire dispatches one target
 * at a time and retries a NACK after 2 µs, forever. A dispatch whose BUSY never clears (a CPU of
 * `errorCpus`) is "mondo stuckage": reported, and the sender gives up on the rest.
 *
 * The sender takes mondo traps where the kernel's loop has PSTATE.IE set: after each hypercall,
 * between sun4u dispatches, and during a retry's `udelay` (a wait ending at its deadline).
 */
@injectable()
export class MondoIpi implements ArchIpi {
  /** The platform in use. */
  readonly platform: SparcPlatform;
  private readonly depth: number;
  private readonly nackRate: number;
  private readonly wouldBlockRate: number;
  private readonly retryLimit: number;
  private readonly errorCpus: CpuMask;
  private readonly hypercallNs: number;
  private readonly hvTargetNs: number;
  private readonly dispatchNs: number;
  private readonly busyPollNs: number;
  private readonly latencyNs: number;
  /**
   * Per CPU: its mondo queue (sun4u: the incoming register, depth 1), `cpu_mondo_counter` and
   * pending softint bits, in one block per CPU.
   */
  private readonly queues: MondoQueues;
  /** Per CPU: until when it takes no trap (stuck in the hypervisor), ns; 0 = never. */
  private readonly stallUntil: Float64Array;
  /** Some CPU of `trapStallCpus` (else no delivery needs to read `stallUntil`). */
  private readonly anyStall: boolean;
  /** Per CPU: a trap is already scheduled for the end of its stall. */
  private readonly stallTrapScheduled: Uint8Array;
  /** Each sender's sun4v retry bookkeeping (created on its first cross-call, then reused). */
  private readonly retryStates: MondoRetryState[];
  /** Each sender's CPU list (per CPU, as the kernel's trap block; grown on demand, then reused). */
  private readonly cpuLists: Int32Array[];
  /** sun4u: per CPU, the xcall in its incoming dispatch register (while its slot is claimed). */
  private readonly incoming: Uint8Array;
  /** Each sender's `cpu_mondo_send` in progress (created on its first sun4v cross-call, then reused). */
  private readonly sendCalls: MondoSendCall[];
  /** CPUs already reported (reported once each). */
  private readonly reported: Uint8Array;
  /** Each sender's udelay wait (created on its first retry delay, then reused). */
  private readonly udelayWaits: UdelayWait[];
  /** The receive path's handler frames, reused (no generator per trap or softint). */
  private readonly frames: HandlerFramePool;
  // Counters.
  private hypercalls = 0;
  private dispatches = 0;
  private retries = 0;
  private udelays = 0;
  private nacks = 0;
  private wouldBlocks = 0;
  private retryNs = 0;
  private mondoTraps = 0;
  private mondosDelivered = 0;
  private softints = 0;
  private softintsCoalesced = 0;
  private cpuErrors = 0;
  private cpuStateCalls = 0;
  private noCpus = 0;
  private mondoTimeouts = 0;
  private mondoStuckages = 0;
  private maxDispatchBatch = 0;

  constructor(
    @inject(MachineToken) private readonly machine: Machine,
    @inject(InterconnectToken) private readonly wires: Interconnect,
    @inject(SmpHandlersToken) private readonly smp: SmpHandlers,
    @inject(TraceToken) private readonly trace: TraceSink,
    @inject(FaultInjectorToken) private readonly faults: FaultInjector,
    @inject(ArchOptionsToken) options: ArchOptionValues,
  ) {
    const n = machine.nrCpus;
    this.platform = options.platform as SparcPlatform;
    this.depth = this.platform === "sun4v" ? (options.mondoQueueDepth as number) : 1;
    this.nackRate = options.nackRate as number;
    this.wouldBlockRate = options.wouldBlockRate as number;
    this.retryLimit = options.retryLimit as number;
    this.errorCpus = cpulistOption("sparc", "errorCpus", options.errorCpus as string, n);
    this.hypercallNs = options.hypercallNs as number;
    this.hvTargetNs = options.hvTargetNs as number;
    this.dispatchNs = options.dispatchNs as number;
    this.busyPollNs = options.busyPollNs as number;
    this.latencyNs = options.latencyNs as number;
    this.queues = new MondoQueues(n, this.depth);
    this.stallUntil = new Float64Array(n);
    this.stallTrapScheduled = new Uint8Array(n);
    const stalled = cpulistOption("sparc", "trapStallCpus", options.trapStallCpus as string, n);
    for (let c = stalled.first(); c < n; c = stalled.next(c))
      this.stallUntil[c] = options.trapStallNs as number;
    this.anyStall = stalled.weight() > 0;
    this.cpuLists = new Array<Int32Array>(n);
    this.incoming = new Uint8Array(n);
    this.retryStates = new Array<MondoRetryState>(n);
    this.sendCalls = new Array<MondoSendCall>(n);
    this.reported = new Uint8Array(n);
    this.udelayWaits = new Array<UdelayWait>(n);
    this.frames = new HandlerFramePool((cpu, line) => this.beginInterrupt(cpu, line));
    // The cpu-mondo trap is taken with interrupts "disabled" (PIL raised).
    wires.setTrapLines(1 << LINE_MONDO);
  }

  /** Occupied entries of `cpu`'s mondo queue (sun4u: 1 while its incoming register is full). */
  queueDepthOf(cpu: number): number {
    return this.queues.queued(cpu);
  }

  /** Mondos `cpu` has taken (the kernel's `cpu_mondo_counter`). */
  mondoCounterOf(cpu: number): number {
    return this.queues.counter(cpu);
  }

  /** Is `cpu` taking traps now (not stuck in the hypervisor)? */
  takingTraps(cpu: number): boolean {
    return this.machine.now >= this.stallUntil[cpu];
  }

  /** Is `cpu`'s queue (sun4u: incoming register) full? */
  private full(cpu: number): boolean {
    return this.queues.full(cpu);
  }

  /**
   * sun4u: dispatch one mondo to `cpu`: its incoming register is busy from now on (a later
   * dispatch is NACKed), the data is in it when the vector arrives, `afterNs` plus the latency
   * from now, with its trap (the trap writes it: `mondoTrap`).
   */
  private deliver(cpu: number, xcall: number, afterNs: number): void {
    this.mondosDelivered++;
    this.queues.reserve(cpu);
    this.incoming[cpu] = xcall;
    this.signal(cpu, afterNs);
  }

  /** Raise `cpu`'s mondo trap `afterNs` plus the latency from now (or when its stall ends). */
  private signal(cpu: number, afterNs: number): void {
    const stall = this.anyStall ? this.stallUntil[cpu] - this.machine.now : 0;
    if (stall <= 0) {
      this.wires.raise(cpu, LINE_MONDO, this.latencyNs, afterNs);
    } else if (this.stallTrapScheduled[cpu] === 0) {
      this.stallTrapScheduled[cpu] = 1;
      this.wires.schedule(stall, () => {
        if (this.queues.queued(cpu) + this.queues.reserved(cpu) > 0) this.wires.raise(cpu, LINE_MONDO, 0);
      });
    }
  }

  private reportOnce(cpu: number, message: string): void {
    if (this.reported[cpu] !== 0) return;
    this.reported[cpu] = 1;
    this.wires.reportProblem({ kind: "arch-error", time: this.machine.now, cpu, message });
  }

  /**
   * `udelay(ns / 1000)` on the sending CPU inside its cross-call, where PSTATE.IE is set: mondo
   * traps are taken during it (see the UdelayWait class). A delay no longer than the machine's
   * spin-wake cost is one plain step.
   */
  private *udelay(ns: number): CpuCode<void> {
    const m = this.machine;
    if (ns <= m.cost.spinWakeNs) {
      yield ns;
      return;
    }
    const self = m.current;
    yield (this.udelayWaits[self] ??= new UdelayWait(m, this.wires, self)).start(ns);
  }

  /**
   * xcall_deliver: interrupts off, CPU list without self and offline CPUs, then the platform's
   * deliver routine. Yields between tries so targets can drain their queues.
   */
  private *xcallDeliver(mask: CpuMask | null, single: number, xcall: number): CpuCode<void> {
    const m = this.machine;
    const self = m.current;
    const need = mask === null ? 1 : mask.weight();
    let list = this.cpuLists[self];
    if (list === undefined || list.length < need)
      list = this.cpuLists[self] = new Int32Array(Math.max(need, 8));
    let cnt = 0;
    if (mask === null) {
      if (single !== self && m.cpus[single].online) list[cnt++] = single;
    } else {
      // Online from the online mask (cpu_online_mask): a mask's list reads no target CPU's state.
      const online = m.onlineMask;
      for (let c = mask.first(); c < mask.nrCpuIds; c = mask.next(c))
        if (c !== self && online.test(c)) list[cnt++] = c;
    }
    if (cnt === 0) return;
    const was = m.localIrqSave();
    if (this.platform === "sun4v") yield* this.hypervisorXcallDeliver(list, cnt, xcall);
    else if (this.platform === "sun4u-cheetah") yield* this.cheetahXcallDeliver(list, cnt, xcall);
    else yield* this.spitfireXcallDeliver(list, cnt, xcall);
    m.localIrqRestore(was);
  }

  /**
   * One `cpu_mondo_send`, with traps held: the hypercall's fixed part (`hypercallNs`: the trap
   * into the hypervisor, its checks of the list and the mondo block), then the hypervisor's walk
   * of the CPU list, `hvTargetNs` per entry not yet done: entry k (counting those) is visited
   * `hypercallNs + (k + 1) hvTargetNs` after the call began, by a machine callback (hardware acting
   * on its own), while the sender waits in the call (busy); the call returns when the walk ends
   * (plus the machine's spin-wake cost, as any wait). With `hvTargetNs` 0 every entry is visited at
   * `hypercallNs`, in the sender's own step. Returns the status.
   */
  private *cpuMondoSend(list: Int32Array, cnt: number, xcall: number): CpuCode<number> {
    const self = this.machine.current;
    let call = this.sendCalls[self];
    if (call === undefined) {
      const c = (call = this.sendCalls[self] = new MondoSendCall(self));
      c.step = () => this.walkStep(c);
    }
    call.list = list;
    call.cnt = cnt;
    call.xcall = xcall;
    call.next = 0;
    call.error = call.noCpu = call.block = false;
    this.wires.holdTraps(true);
    if (this.hvTargetNs === 0) {
      yield this.hypercallNs;
      while (call.next < cnt) this.visitEntry(call);
    } else {
      call.done = false;
      this.wires.schedule(this.hypercallNs + this.hvTargetNs, call.step);
      yield call;
    }
    this.wires.holdTraps(false);
    return call.status();
  }

  /** The hypervisor's walk reaches the next entry of `call`'s list: visit it; then the next one, or the end. */
  private walkStep(call: MondoSendCall): void {
    this.visitEntry(call);
    while (call.next < call.cnt && call.list[call.next] === CPU_LIST_DONE) call.next++;
    if (call.next < call.cnt) {
      this.wires.schedule(this.hvTargetNs, call.step);
      return;
    }
    call.done = true;
    this.machine.wake(call);
  }

  /**
   * Visit the first entry of `call`'s list at or after `call.next` not yet done. A CPU in error or
   * not in the domain (offline) ends the walk there, as the OpenSPARC hypervisor's
   * `cpu_mondo_send` returns at once with that status, the entries after it not visited (the
   * kernel's retry sends them); a full queue is noted (would-block, returned at the walk's end if
   * nothing worse is met) and the walk goes on; otherwise the mondo is written to the target's
   * queue now, the entry marked done, and the target's trap raised after the latency.
   */
  private visitEntry(call: MondoSendCall): void {
    const list = call.list;
    let i = call.next;
    while (i < call.cnt && list[i] === CPU_LIST_DONE) i++;
    call.next = i + 1;
    if (i >= call.cnt) return;
    const cpu = list[i];
    if (this.errorCpus.test(cpu)) {
      call.error = true;
      call.next = call.cnt; // the hypervisor returns HV_ECPUERROR here
    } else if (!this.machine.onlineMask.test(cpu)) {
      call.noCpu = true; // a stopped CPU is not in the domain's running set
      call.next = call.cnt; // the hypervisor returns HV_ENOCPU here
    } else if (
      this.full(cpu) ||
      (this.wouldBlockRate > 0 && this.faults.chance(this.wouldBlockRate, "sparc.wouldblock"))
    ) {
      call.block = true;
      this.wouldBlocks++;
    } else {
      this.mondosDelivered++;
      this.queues.reserve(cpu);
      this.queues.fill(cpu, call.xcall);
      list[i] = CPU_LIST_DONE;
      this.signal(cpu, 0);
    }
  }

  /**
   * sun4v `hypervisor_xcall_deliver`: `cpu_mondo_send` for the list until every entry is done,
   * dropping CPUs in error or not in the domain, with the kernel's retry and delay rules.
   */
  private *hypervisorXcallDeliver(list: Int32Array, cnt: number, xcall: number): CpuCode<void> {
    const m = this.machine;
    const self = m.current;
    const total = cnt;
    const waitNs = mondoRetryDelayNs(cnt);
    const state = (this.retryStates[self] ??= new MondoRetryState(this.retryLimit)).reset();
    let errorCpu = -1;
    let noCpu = -1;
    for (;;) {
      this.hypercalls++;
      const status = yield* this.cpuMondoSend(list, cnt, xcall);
      if (status === HV_EOK) break;
      let ns = 0;
      // Count what this try delivered, drop CPUs in error / not in the domain, repack the rest.
      // On HV_ECPUERROR every CPU left is asked its state (sun4v_cpu_state, a hypercall each).
      let rem = 0;
      let nSent = 0;
      for (let i = 0; i < cnt; i++) {
        const cpu = list[i];
        if (cpu === CPU_LIST_DONE) nSent++;
        else if (status === HV_ECPUERROR) {
          this.cpuStateCalls++;
          ns += this.hypercallNs;
          if (this.errorCpus.test(cpu)) {
            errorCpu = cpu;
            this.cpuErrors++;
          } else list[rem++] = cpu;
        } else if (status === HV_ENOCPU && !m.onlineMask.test(cpu)) {
          noCpu = cpu;
          this.noCpus++;
        } else list[rem++] = cpu;
      }
      if (rem === 0) {
        if (ns > 0) yield ns; // the cpu_state calls
        break;
      }
      cnt = rem;
      const next = state.afterTry(nSent, list[0], this.queues.counter(list[0]));
      if (next === "timeout") {
        this.mondoTimeouts++;
        const stuck = list[0];
        this.wires.panic({
          time: m.now,
          cpu: stuck,
          message: `CPU[${self}]: SUN4V mondo timeout, cpu(${stuck}) made no forward progress after ${state.totalRetries + state.retries} retries. Total target cpus(${total}). Kernel panic: SUN4V mondo timeout panic`,
        });
        yield ns;
        return;
      }
      this.retries++;
      // Each hypercall takes no traps; between and after them the loop runs with PSTATE.IE set.
      if (ns > 0) yield ns; // the cpu_state calls
      if (next === "wait") {
        this.udelays++;
        this.retryNs += waitNs;
        yield* this.udelay(waitNs);
      }
    }
    if (errorCpu >= 0)
      this.reportOnce(
        errorCpu,
        `CPU[${self}]: SUN4V mondo cpu error, target cpu(${errorCpu}) was in error state (HV_ECPUERROR); dropped from the CPU list`,
      );
    else if (noCpu >= 0)
      this.reportOnce(
        noCpu,
        `CPU[${self}]: SUN4V mondo cpu error, target cpu(${noCpu}) does not belong to the domain (HV_ENOCPU); dropped from the CPU list`,
      );
  }

  /** A sun4u dispatch that never clears BUSY: "mondo stuckage", reported; the sender gives up. */
  private stuckage(cpu: number): void {
    this.mondoStuckages++;
    this.reportOnce(
      cpu,
      `CPU[${this.machine.current}]: mondo stuckage: the dispatch BUSY bit for cpu(${cpu}) never cleared; the cross-call is given up for the targets not yet delivered`,
    );
  }

  /** sun4u Cheetah: batches of up to 32 slots, BUSY polled, NACKed slots re-dispatched without limit. */
  private *cheetahXcallDeliver(list: Int32Array, cnt: number, xcall: number): CpuCode<void> {
    let remaining = cnt;
    while (remaining > 0) {
      let ns = 0;
      let slots = 0;
      let nacked = 0;
      let stuck = -1;
      for (let i = 0; i < cnt && slots < CHEETAH_MAX_TARGETS; i++) {
        const cpu = list[i];
        if (cpu === CPU_LIST_DONE) continue;
        slots++;
        ns += this.dispatchNs;
        if (this.errorCpus.test(cpu)) {
          if (stuck < 0) stuck = cpu; // BUSY stays set
        } else if (this.full(cpu) || (this.nackRate > 0 && this.faults.chance(this.nackRate, "sparc.nack"))) {
          nacked++;
        } else {
          this.deliver(cpu, xcall, ns);
          list[i] = CPU_LIST_DONE;
          remaining--;
        }
      }
      this.dispatches++;
      if (slots > this.maxDispatchBatch) this.maxDispatchBatch = slots;
      if (stuck >= 0) {
        // Polled SUN4U_STUCK_POLLS times per slot, BUSY never cleared: give up.
        ns += this.busyPollNs * SUN4U_STUCK_POLLS * slots;
        this.stuckage(stuck);
        yield ns;
        return;
      }
      ns += this.busyPollNs;
      // Dispatch and poll run with PSTATE.IE clear: one step; IE is back on after it.
      yield ns;
      if (nacked > 0) {
        // The back-off with PSTATE.IE set: 2 µs per slot of the batch.
        const delay = 2000 * slots;
        this.nacks += nacked;
        this.retries++;
        this.udelays++;
        this.retryNs += delay;
        yield* this.udelay(delay);
      }
    }
  }

  /** sun4u Spitfire: one target per dispatch; a NACK is retried after 2 µs, forever. */
  private *spitfireXcallDeliver(list: Int32Array, cnt: number, xcall: number): CpuCode<void> {
    // Each dispatch and its polling run with PSTATE.IE clear (one step); IE is set again
    // between targets and during a NACK's udelay, where the sender takes mondo traps.
    for (let i = 0; i < cnt; i++) {
      const cpu = list[i];
      for (;;) {
        this.dispatches++;
        if (this.maxDispatchBatch < 1) this.maxDispatchBatch = 1;
        if (this.errorCpus.test(cpu)) {
          this.stuckage(cpu);
          yield this.dispatchNs + this.busyPollNs * SUN4U_STUCK_POLLS;
          break; // on to the next target
        }
        if (this.full(cpu) || (this.nackRate > 0 && this.faults.chance(this.nackRate, "sparc.nack"))) {
          this.nacks++;
          this.retries++;
          this.udelays++;
          this.retryNs += 2000;
          yield this.dispatchNs + this.busyPollNs;
          yield* this.udelay(2000);
          continue;
        }
        this.deliver(cpu, xcall, this.dispatchNs);
        yield this.dispatchNs + this.busyPollNs;
        break;
      }
    }
  }

  /** arch_send_call_function_ipi_mask: xcall_call_function to the mask. */
  sendCallFunctionIpiMask(mask: CpuMask): CpuCode<void> {
    return this.xcallDeliver(mask, -1, XCALL_CALL_FUNCTION);
  }

  /** arch_send_call_function_single_ipi: xcall_call_function_single to one CPU. */
  sendCallFunctionSingleIpi(cpu: number): CpuCode<void> {
    return this.xcallDeliver(null, cpu, XCALL_CALL_FUNCTION_SINGLE);
  }

  /**
   * smp_send_reschedule: xcall_receive_signal to another CPU; to the sending CPU itself, no
   * cross-call: it sets its own receive-signal softint, taken once PIL drops.
   */
  sendRescheduleIpi(cpu: number): CpuCode<void> {
    if (cpu === this.machine.current) return this.selfReschedule(cpu);
    return this.xcallDeliver(null, cpu, XCALL_RECEIVE_SIGNAL);
  }

  private *selfReschedule(cpu: number): CpuCode<void> {
    if (this.queues.setSoftint(cpu, LINE_SOFTINT_RESCHED)) this.wires.raise(cpu, LINE_SOFTINT_RESCHED, 0);
    else this.softintsCoalesced++;
    yield 0;
  }

  /**
   * Stage 1 (cpu-mondo trap, taken even under a raised PIL): take one queue entry, set its
   * softint; another trap follows while entries remain. Stage 2 (softint, interrupts enabled):
   * clear the bit, run the generic handler. The frame runs this at its first step, as a
   * generator would (see `beginInterrupt`).
   */
  handleInterrupt(cpu: number, line: number): CpuCode<void> {
    return this.frames.frame(cpu, line);
  }

  /** A handler frame's first step: the trap's or softint's own work; returns the flush to run, if any. */
  private beginInterrupt(cpu: number, line: number): CpuCode<void> | null {
    if (line === LINE_MONDO) {
      this.mondoTrap(cpu);
      return null;
    }
    this.softints++;
    this.queues.clearSoftint(cpu, line); // clear_softint
    if (line === LINE_SOFTINT_CALL_FUNC) return this.smp.genericSmpCallFunctionInterrupt();
    if (line === LINE_SOFTINT_SINGLE) return this.smp.genericSmpCallFunctionSingleInterrupt();
    if (line === LINE_SOFTINT_RESCHED) this.smp.schedulerIpi();
    return null;
  }

  /** The cpu-mondo trap: take one queue entry, set its softint, trap again while entries remain. */
  private mondoTrap(cpu: number): void {
    const q = this.queues;
    if (q.queued(cpu) === 0) {
      // sun4u: the dispatched vector arrives with its trap (sun4v's entries are written when the
      // hypervisor's walk of the CPU list reaches them, so there a trap finds them written).
      if (this.platform === "sun4v" || q.reserved(cpu) === 0) return;
      q.fill(cpu, this.incoming[cpu]);
    }
    this.mondoTraps++;
    const x = q.take(cpu);
    if (this.trace.enabled) {
      const m = this.machine;
      this.trace.emit(m.now, cpu, m.cpus[cpu], "sparc_mondo", { handler: XCALL_NAMES[x] });
    }
    const softint = SOFTINT_OF_XCALL[x];
    if (q.setSoftint(cpu, softint)) this.wires.raise(cpu, softint, 0);
    else this.softintsCoalesced++;
    if (q.queued(cpu) > 0) this.wires.raise(cpu, LINE_MONDO, 0);
  }

  lineName(line: number): string {
    return (
      [
        "cpu mondo",
        "softint PIL_SMP_CALL_FUNC_SNGL",
        "softint PIL_SMP_RECEIVE_SIGNAL",
        "softint PIL_SMP_CALL_FUNC",
      ][line] ?? `line ${line}`
    );
  }

  statistics(): ArchStatistics {
    return {
      hypercalls: this.hypercalls,
      dispatches: this.dispatches,
      maxDispatchBatch: this.maxDispatchBatch,
      retries: this.retries,
      udelays: this.udelays,
      retryNs: this.retryNs,
      nacks: this.nacks,
      wouldBlocks: this.wouldBlocks,
      cpuErrors: this.cpuErrors,
      cpuStateCalls: this.cpuStateCalls,
      noCpus: this.noCpus,
      mondoTimeouts: this.mondoTimeouts,
      mondoStuckages: this.mondoStuckages,
      mondoTraps: this.mondoTraps,
      mondoEntries: this.mondoTraps,
      mondosDelivered: this.mondosDelivered,
      softints: this.softints,
      softintsCoalesced: this.softintsCoalesced,
    };
  }
}
