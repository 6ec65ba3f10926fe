import { inject, injectable } from "tsyringe";
import {
  ArchOptionsToken,
  FaultInjectorToken,
  InterconnectToken,
  MachineToken,
  SmpHandlersToken,
  TraceToken,
  cpulistOption,
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
  HV_EOK,
  HV_EWOULDBLOCK,
  LINE_MONDO,
  LINE_SOFTINT_CALL_FUNC,
  LINE_SOFTINT_RESCHED,
  LINE_SOFTINT_SINGLE,
  mondoRetryDelayNs,
  SOFTINT_OF_XCALL,
  XCALL_CALL_FUNCTION,
  XCALL_CALL_FUNCTION_SINGLE,
  XCALL_NAMES,
  XCALL_RECEIVE_SIGNAL,
} from "./hypervisor";

/** sun4v (hypervisor) or sun4u (interrupt dispatch registers). */
export type SparcPlatform = "sun4v" | "sun4u-cheetah" | "sun4u-spitfire";

/**
 * sparc64 cross-calls. A cross-call carries data (the handler in word 0) in the sender's mondo
 * block plus a list of target CPUs. sun4v: one `cpu_mondo_send` hypercall per try for the whole
 * list; full target queues say would-block and stay in the list, delivered entries are marked
 * done, CPUs in error are dropped and reported; retries wait 2 µs per remaining CPU (2..100 µs),
 * and the retry count resets whenever some CPU made progress; past the limit without progress the
 * sender reports a mondo timeout. sun4u: dispatches of at most 32 targets (Cheetah) or one
 * (Spitfire), BUSY polled, NACKed targets re-dispatched after a delay growing with the slot.
 * Receive: the mondo trap frees the queue slot (the acknowledgement) and raises a softint; the
 * softint runs the generic handler. Softints coalesce like an IRR bit.
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
  private readonly dispatchNs: number;
  private readonly busyPollNs: number;
  private readonly latencyNs: number;
  /** Per CPU: occupied cpu mondo queue entries (sun4u: the incoming register, depth 1). */
  private readonly queued: Int32Array;
  /** Per CPU and xcall: entries waiting in its queue (what word 0 of each says). */
  private readonly pendingXcalls: Int32Array;
  /** Each sender's CPU list (per CPU, as the kernel's trap block; grown on demand, then reused). */
  private readonly cpuLists: Int32Array[];
  /** Per CPU: pending softint bits (SET_SOFTINT / CLEAR_SOFTINT), bit = softint line. */
  private readonly softintBits: Uint8Array;
  /** CPUs already reported in error (reported once each). */
  private readonly reportedError: Uint8Array;
  // Counters.
  private hypercalls = 0;
  private dispatches = 0;
  private retries = 0;
  private nacks = 0;
  private wouldBlocks = 0;
  private retryNs = 0;
  private mondoTraps = 0;
  private mondoEntries = 0;
  private mondosDelivered = 0;
  private softints = 0;
  private softintsCoalesced = 0;
  private cpuErrors = 0;
  private mondoTimeouts = 0;
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
    this.dispatchNs = options.dispatchNs as number;
    this.busyPollNs = options.busyPollNs as number;
    this.latencyNs = options.latencyNs as number;
    this.queued = new Int32Array(n);
    this.pendingXcalls = new Int32Array(n * 3);
    this.cpuLists = new Array<Int32Array>(n);
    this.softintBits = new Uint8Array(n);
    this.reportedError = new Uint8Array(n);
  }

  /** Occupied entries of `cpu`'s mondo queue (sun4u: 1 while its incoming register is full). */
  queueDepthOf(cpu: number): number {
    return this.queued[cpu];
  }

  /** Put one mondo in `cpu`'s queue; it arrives after the latency. */
  private deliver(cpu: number, xcall: number, afterNs: number): void {
    this.mondosDelivered++;
    this.queued[cpu]++;
    this.pendingXcalls[cpu * 3 + xcall]++;
    this.wires.raise(cpu, LINE_MONDO, afterNs + this.latencyNs);
  }

  private reportError(cpu: number, what: string): void {
    if (this.reportedError[cpu] !== 0) return;
    this.reportedError[cpu] = 1;
    this.wires.reportProblem({ kind: "arch-error", time: this.machine.now, cpu, message: what });
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
      for (let c = mask.first(); c < mask.nrCpuIds; c = mask.next(c))
        if (c !== self && m.cpus[c].online) list[cnt++] = c;
    }
    if (cnt === 0) return;
    const was = m.localIrqSave();
    if (this.platform === "sun4v") yield* this.hypervisorXcallDeliver(list, cnt, xcall);
    else
      yield* this.dispatchXcallDeliver(
        list,
        cnt,
        xcall,
        this.platform === "sun4u-cheetah" ? CHEETAH_MAX_TARGETS : 1,
      );
    m.localIrqRestore(was);
  }

  /** sun4v: cpu_mondo_send on the whole list per try. */
  private *hypervisorXcallDeliver(list: Int32Array, cnt: number, xcall: number): CpuCode<void> {
    let remaining = cnt;
    let tries = 0;
    for (;;) {
      this.hypercalls++;
      let status = HV_EOK;
      let progress = 0;
      for (let i = 0; i < cnt; i++) {
        const cpu = list[i];
        if (cpu === CPU_LIST_DONE) continue;
        if (this.errorCpus.test(cpu)) {
          status = HV_ECPUERROR;
        } else if (
          this.queued[cpu] >= this.depth ||
          (this.wouldBlockRate > 0 && this.faults.chance(this.wouldBlockRate, "sparc.wouldblock"))
        ) {
          if (status === HV_EOK) status = HV_EWOULDBLOCK;
          this.wouldBlocks++;
        } else {
          this.deliver(cpu, xcall, this.hypercallNs);
          list[i] = CPU_LIST_DONE;
          progress++;
          remaining--;
        }
      }
      if (status === HV_ECPUERROR) {
        // Check each remaining CPU's state; drop and report the ones in error.
        for (let i = 0; i < cnt; i++) {
          const cpu = list[i];
          if (cpu !== CPU_LIST_DONE && this.errorCpus.test(cpu)) {
            this.cpuErrors++;
            this.reportError(
              cpu,
              `sun4v xcall: target cpu(${cpu}) was in error state (HV_ECPUERROR); dropped from the CPU list`,
            );
            list[i] = CPU_LIST_DONE;
            remaining--;
          }
        }
      }
      if (remaining === 0) {
        yield this.hypercallNs;
        return;
      }
      tries = progress > 0 ? 0 : tries + 1;
      if (tries > this.retryLimit) {
        this.mondoTimeouts++;
        const stuck = this.firstRemaining(list, cnt);
        this.reportError(
          stuck,
          `sun4v xcall: mondo timeout: cpu(${stuck}) made no progress after ${this.retryLimit} retries, total targets ${cnt}`,
        );
        yield this.hypercallNs;
        return;
      }
      const delay = mondoRetryDelayNs(remaining);
      this.retries++;
      this.retryNs += delay;
      yield this.hypercallNs + delay;
    }
  }

  /** sun4u: dispatch batches of at most `batch` targets, poll BUSY, re-dispatch NACKed ones. */
  private *dispatchXcallDeliver(list: Int32Array, cnt: number, xcall: number, batch: number): CpuCode<void> {
    let tries = 0;
    let remaining = cnt;
    while (remaining > 0) {
      let ns = 0;
      let progress = 0;
      let firstNack = -1;
      let slot = 0;
      for (let i = 0; i < cnt && slot < batch; i++) {
        const cpu = list[i];
        if (cpu === CPU_LIST_DONE) continue;
        ns += this.dispatchNs;
        const nack =
          this.errorCpus.test(cpu) ||
          this.queued[cpu] >= this.depth ||
          (this.nackRate > 0 && this.faults.chance(this.nackRate, "sparc.nack"));
        if (nack) {
          this.nacks++;
          if (firstNack < 0) firstNack = slot;
        } else {
          this.deliver(cpu, xcall, ns);
          list[i] = CPU_LIST_DONE;
          progress++;
          remaining--;
        }
        slot++;
      }
      this.dispatches++;
      if (slot > this.maxDispatchBatch) this.maxDispatchBatch = slot;
      ns += this.busyPollNs;
      if (remaining === 0) {
        yield ns;
        return;
      }
      tries = progress > 0 ? 0 : tries + 1;
      if (tries > this.retryLimit) {
        this.mondoTimeouts++;
        const stuck = this.firstRemaining(list, cnt);
        this.reportError(
          stuck,
          `sun4u xcall: mondo stuckage: cpu(${stuck}) NACKed ${this.retryLimit} dispatches in a row, total targets ${cnt}`,
        );
        yield ns;
        return;
      }
      if (firstNack >= 0) {
        const delay = 2000 * (firstNack + 1);
        this.retries++;
        this.retryNs += delay;
        ns += delay;
      }
      yield ns;
    }
  }

  private firstRemaining(list: Int32Array, cnt: number): number {
    for (let i = 0; i < cnt; i++) if (list[i] !== CPU_LIST_DONE) return list[i];
    return -1;
  }

  /** arch_send_call_function_ipi_mask: xcall_call_function to the mask. */
  sendCallFunctionIpiMask(mask: CpuMask): CpuCode<void> {
    return this.xcallDeliver(mask, -1, XCALL_CALL_FUNCTION);
  }

  /** arch_send_call_function_single_ipi: xcall_call_function_single to one CPU. */
  sendCallFunctionSingleIpi(cpu: number): CpuCode<void> {
    return this.xcallDeliver(null, cpu, XCALL_CALL_FUNCTION_SINGLE);
  }

  /** smp_send_reschedule: xcall_receive_signal. */
  sendRescheduleIpi(cpu: number): CpuCode<void> {
    return this.xcallDeliver(null, cpu, XCALL_RECEIVE_SIGNAL);
  }

  /** Stage 1 (mondo trap): free the queue slots, raise the softints. Stage 2 (softint): the generic handler. */
  *handleInterrupt(cpu: number, line: number): CpuCode<void> {
    const m = this.machine;
    if (line === LINE_MONDO) {
      this.mondoTraps++;
      for (let x = 0; x < 3; x++) {
        let k = this.pendingXcalls[cpu * 3 + x];
        if (k === 0) continue;
        this.pendingXcalls[cpu * 3 + x] = 0;
        for (; k > 0; k--) {
          this.queued[cpu]--;
          this.mondoEntries++;
          if (this.trace.enabled)
            this.trace.emit(m.now, cpu, m.cpus[cpu], "sparc_mondo", { handler: XCALL_NAMES[x] });
          const softint = SOFTINT_OF_XCALL[x];
          const bit = 1 << softint;
          if ((this.softintBits[cpu] & bit) !== 0) {
            this.softintsCoalesced++;
          } else {
            this.softintBits[cpu] |= bit;
            this.wires.raise(cpu, softint, 0);
          }
        }
      }
      return;
    }
    this.softints++;
    this.softintBits[cpu] &= ~(1 << line); // clear_softint
    if (line === LINE_SOFTINT_CALL_FUNC) yield* this.smp.genericSmpCallFunctionInterrupt();
    else if (line === LINE_SOFTINT_SINGLE) yield* this.smp.genericSmpCallFunctionSingleInterrupt();
    else if (line === LINE_SOFTINT_RESCHED) this.smp.schedulerIpi();
  }

  lineName(line: number): string {
    return (
      [
        "cpu mondo",
        "softint PIL_SMP_CALL_FUNC_SNGL",
        "softint PIL_SMP_CALL_FUNC",
        "softint PIL_SMP_RECEIVE_SIGNAL",
      ][line] ?? `line ${line}`
    );
  }

  statistics(): ArchStatistics {
    return {
      hypercalls: this.hypercalls,
      dispatches: this.dispatches,
      maxDispatchBatch: this.maxDispatchBatch,
      retries: this.retries,
      retryNs: this.retryNs,
      nacks: this.nacks,
      wouldBlocks: this.wouldBlocks,
      cpuErrors: this.cpuErrors,
      mondoTimeouts: this.mondoTimeouts,
      mondoTraps: this.mondoTraps,
      mondoEntries: this.mondoEntries,
      mondosDelivered: this.mondosDelivered,
      softints: this.softints,
      softintsCoalesced: this.softintsCoalesced,
    };
  }
}
