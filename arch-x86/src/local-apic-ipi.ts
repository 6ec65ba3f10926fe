import { inject, injectable } from "tsyringe";
import {
  ArchOptionsToken,
  ArchWarningsToken,
  InterconnectToken,
  MachineToken,
  SmpHandlersToken,
  TraceToken,
  type ArchIpi,
  type ArchOptionValues,
  type ArchStatistics,
  type ArchWarnings,
  type CpuCode,
  type CpuMask,
  type Interconnect,
  type Machine,
  type SmpHandlers,
  type TraceSink,
} from "@smpcall/core";
import { apicIdsOf } from "./apic-id";
import { HandlerFramePool } from "@smpcall/core";
import {
  isXapic,
  PV_IPI_WINDOW,
  resolveApicMode,
  X2APIC_CLUSTER_SIZE,
  type ApicMode,
  type ApicOption,
} from "./apic-mode";
import {
  CALL_FUNCTION_SINGLE_VECTOR,
  CALL_FUNCTION_VECTOR,
  IPI_VECTORS,
  lineOfVector,
  RESCHEDULE_VECTOR,
  vectorName,
  vectorOfLine,
} from "./vectors";

/**
 * A local APIC per CPU and the x86 IPI send/receive paths.
 *
 * - IRR: the machine's pending-line latch is the IRR bit of a vector: an IPI for a vector still
 *   pending merges with it (one interrupt for both). `irr(cpu, vector)` reads it.
 * - ISR: set when the CPU takes the vector, cleared by EOI, which the handler issues first.
 * - ICR: every IPI command is one ICR write (xAPIC: the high then low half; x2APIC: one wrmsr).
 *   xAPIC waits for the previous command's delivery-status bit to clear first (busy-wait on the
 *   sender); x2APIC does not. How many writes a mask costs depends on the mode: flat = 1,
 *   physical = 1 per target, x2APIC cluster = 1 per cluster of 16, the all-but-self shorthand = 1,
 *   KVM PV IPI = 1 hypercall per 128-APIC-ID window.
 * - KVM guest (`pvIpi`): as Linux since v5.4, the shorthand still wins for all-but-self; other
 *   masks go by hypercall; a single IPI is an ordinary ICR write, trapped (a VM exit), and never
 *   busy-waits (KVM's emulated ICR is never busy).
 * - APIC IDs come from the topology (package/core/thread, see `apicIdsOf`), not from CPU numbers:
 *   x2APIC clusters (`apicid >> 4`) and PV-IPI windows are counted from them.
 * - An offline CPU's local APIC is software-disabled and drops what reaches it (a shorthand
 *   reaches offline CPUs too); an IPI latched before it went down, or still in flight then, is
 *   discarded when it comes back (INIT/SIPI resets the local APIC).
 * - A mask of several writes is the kernel's interrupts-off loop: one step per write (or
 *   hypercall), each write's targets raised when it is done.
 */
@injectable()
export class LocalApicIpi implements ArchIpi {
  /** The addressing mode in use (from the `apic` option and the CPU count). */
  readonly mode: ApicMode;
  private readonly shorthandOption: boolean;
  private readonly pvIpi: boolean;
  private readonly latencyNs: number;
  private readonly icrWriteNs: number;
  private readonly deliveryStatusNs: number;
  private readonly hypercallNs: number;
  /** ISR: 256 bits per CPU. */
  private readonly isr: Uint32Array;
  /** Every present CPU has been booted once (latched: `bootedOnce` never goes back to false). */
  private allBooted = false;
  /** When each CPU's xAPIC ICR delivery-status bit clears (ns). */
  private readonly icrBusyUntil: Float64Array;
  /** APIC ID of each CPU (from the topology). */
  private readonly apicIds: Int32Array;
  /** x2APIC cluster of each CPU (`apicid >> 4`). */
  private readonly clusterOf: Int32Array;
  /** CPUs of each cluster, ascending: `clusterCpus[clusterStart[k] .. clusterStart[k + 1])`. */
  private readonly clusterStart: Int32Array;
  private readonly clusterCpus: Int32Array;
  /** The receive path's handler frames, reused (no generator per interrupt). */
  private readonly frames: HandlerFramePool;
  // Counters.
  private icrWrites = 0;
  /** Vectors sent to a target CPU (one per CPU an ICR write, shorthand or hypercall reaches). */
  private vectorsSent = 0;
  private shorthandSends = 0;
  private busyWaitNs = 0;
  private hypercalls = 0;
  private eois = 0;
  private offlineShorthandHits = 0;
  private offlineDropped = 0;
  private offlineReschedules = 0;
  private irrDiscardedAtBoot = 0;
  private interruptsCallFunction = 0;
  private interruptsCallFunctionSingle = 0;
  private interruptsReschedule = 0;

  constructor(
    @inject(MachineToken) private readonly machine: Machine,
    @inject(InterconnectToken) private readonly wires: Interconnect,
    @inject(SmpHandlersToken) private readonly smp: SmpHandlers,
    @inject(TraceToken) private readonly trace: TraceSink,
    @inject(ArchOptionsToken) options: ArchOptionValues,
    @inject(ArchWarningsToken) private readonly warnings: ArchWarnings,
  ) {
    const n = machine.nrCpus;
    this.mode = resolveApicMode(options.apic as ApicOption, n);
    this.shorthandOption = options.shorthand === "auto";
    this.pvIpi = options.pvIpi === true;
    this.latencyNs = options.latencyNs as number;
    // In a KVM guest (pvIpi) an ICR write traps to the hypervisor: it costs a VM exit.
    this.icrWriteNs = this.pvIpi
      ? (options.hypercallNs as number)
      : isXapic(this.mode)
        ? (options.xapicWriteNs as number)
        : (options.x2apicWriteNs as number);
    // KVM emulates an xAPIC ICR write at once and never leaves its delivery-status bit set
    // (arch/x86/kvm/lapic.c), so a guest's wait for it ends at the first read.
    this.deliveryStatusNs = isXapic(this.mode) && !this.pvIpi ? (options.deliveryStatusNs as number) : 0;
    this.hypercallNs = options.hypercallNs as number;
    this.isr = new Uint32Array(n * 8);
    this.icrBusyUntil = new Float64Array(n);
    this.apicIds = apicIdsOf(machine.topology);
    this.clusterOf = new Int32Array(n);
    let clusters = 0;
    for (let cpu = 0; cpu < n; cpu++) {
      const k = Math.floor(this.apicIds[cpu] / X2APIC_CLUSTER_SIZE);
      this.clusterOf[cpu] = k;
      if (k + 1 > clusters) clusters = k + 1;
    }
    this.clusterStart = new Int32Array(clusters + 1);
    for (let cpu = 0; cpu < n; cpu++) this.clusterStart[this.clusterOf[cpu] + 1]++;
    for (let k = 0; k < clusters; k++) this.clusterStart[k + 1] += this.clusterStart[k];
    this.clusterCpus = new Int32Array(n);
    const fill = this.clusterStart.slice(0, clusters);
    for (let cpu = 0; cpu < n; cpu++) this.clusterCpus[fill[this.clusterOf[cpu]]++] = cpu;
    this.frames = new HandlerFramePool((cpu, line) => this.beginInterrupt(cpu, line));
    // INIT/SIPI at bring-up resets the local APIC: what a shorthand left in IRR is gone.
    wires.onCpuBoot((cpu) => {
      for (const vector of IPI_VECTORS) {
        const line = lineOfVector(vector);
        if (wires.isPending(cpu, line)) {
          wires.clearPending(cpu, line);
          this.irrDiscardedAtBoot++;
        }
      }
    });
  }

  /** The APIC ID of `cpu` (from the topology: package, core, thread). */
  apicId(cpu: number): number {
    return this.apicIds[cpu];
  }

  /** IRR bit of `vector` at `cpu`: raised and not yet taken. */
  irr(cpu: number, vector: number): boolean {
    return this.wires.isPending(cpu, lineOfVector(vector));
  }

  /**
   * The 256-bit IRR of `cpu` as eight 32-bit words (bit v of the bitmap = vector v requested).
   * Built from the machine's pending lines, which are the IRR bits of the vectors in use.
   */
  irrBitmap(cpu: number): Uint32Array {
    const words = new Uint32Array(8);
    for (const vector of IPI_VECTORS) if (this.irr(cpu, vector)) words[vector >>> 5] |= 1 << (vector & 31);
    return words;
  }

  /** The 256-bit ISR of `cpu` as eight 32-bit words (bit v = vector v in service). */
  isrBitmap(cpu: number): Uint32Array {
    return this.isr.slice(cpu * 8, cpu * 8 + 8);
  }

  /** ISR bit of `vector` at `cpu`: taken and not yet EOI'd. */
  inService(cpu: number, vector: number): boolean {
    return (this.isr[cpu * 8 + (vector >>> 5)] & (1 << (vector & 31))) !== 0;
  }

  /**
   * The all-but-self shorthand is usable: not turned off, more than one CPU online, and every
   * present CPU booted at least once (an APIC never booted may be in an unknown state).
   */
  shorthandEnabled(): boolean {
    if (!this.shorthandOption) return false;
    const m = this.machine;
    if (m.onlineMask.weight() <= 1) return false;
    if (!this.allBooted) {
      for (let i = 0; i < m.nrCpus; i++) if (!m.cpus[i].bootedOnce) return false;
      this.allBooted = true;
    }
    return true;
  }

  /**
   * Is `mask` (never holding the sender) plus the sender exactly the online mask, as
   * `native_send_call_func_ipi` asks (`cpumask_or_equal`)? Never when the sender itself is not
   * online (a CPU on its way down, running its last callbacks): that mask goes target by target.
   */
  private isAllButSelf(mask: CpuMask, self: number): boolean {
    const online = this.machine.onlineMask;
    return online.test(self) && mask.weight() === online.weight() - 1 && mask.isSubsetOf(online);
  }

  /**
   * One ICR write starting at virtual time `t` on `self`: xAPIC first waits for the previous
   * write's delivery-status bit. Returns when the write is done.
   */
  private icrWrite(self: number, t: number): number {
    const busy = this.icrBusyUntil[self];
    if (busy > t) {
      this.busyWaitNs += busy - t;
      t = busy;
    }
    t += this.icrWriteNs;
    this.icrBusyUntil[self] = t + this.deliveryStatusNs;
    this.icrWrites++;
    return t;
  }

  /**
   * Raise `vector` at `cpu`, sent by a write done at virtual time `t` (now or later). A CPU that
   * is not online has a software-disabled local APIC (6.1's `native_cpu_disable` soft-disables
   * it when the CPU goes down; a never-booted one is still in its reset state), which does not
   * latch a fixed IPI: the vector is dropped there (`offlineDropped`).
   */
  private deliver(cpu: number, vector: number, t: number): void {
    this.vectorsSent++;
    if (!this.machine.onlineMask.test(cpu)) {
      this.offlineDropped++;
      return;
    }
    this.wires.raise(cpu, lineOfVector(vector), t - this.machine.now + this.latencyNs);
  }

  /**
   * The mask path (CALL_FUNCTION_VECTOR): the shorthand, or the mode's own way of covering the
   * mask. A send of one write is one step whose target is raised at the write's end plus the
   * latency. A send of several writes is the kernel's loop, which runs with interrupts off: one
   * step per write (busy-wait included), and the targets of a write are raised when it is done, so
   * target k's IPI leaves after the k writes before it and only the delivery latency varies.
   */
  *sendCallFunctionIpiMask(mask: CpuMask): CpuCode<void> {
    const m = this.machine;
    const self = m.current;
    const n = mask.nrCpuIds;
    if (this.shorthandEnabled() && this.isAllButSelf(mask, self)) {
      // "All excluding self": one write; it reaches every present CPU, offline ones included,
      // whose disabled APICs drop it. (A KVM guest uses it too instead of splitting the mask into
      // hypercalls, Linux >= 5.4.) Offline CPUs are counted from the online mask.
      const start = m.now;
      const t = this.icrWrite(self, start);
      this.shorthandSends++;
      this.offlineShorthandHits += m.nrCpus - m.onlineMask.weight();
      for (let cpu = 0; cpu < m.nrCpus; cpu++) if (cpu !== self) this.deliver(cpu, CALL_FUNCTION_VECTOR, t);
      yield t - start;
    } else if (this.pvIpi) {
      yield* this.pvIpiSend(mask);
    } else if (this.mode === "flat") {
      // One write whose logical destination is the OR of the targets' bits.
      const start = m.now;
      const t = this.icrWrite(self, start);
      for (let cpu = mask.first(); cpu < n; cpu = mask.next(cpu)) this.deliver(cpu, CALL_FUNCTION_VECTOR, t);
      yield t - start;
    } else if (this.mode === "x2apic-cluster") {
      // Take the lowest remaining target, OR the logical bits of every target in its cluster,
      // one write, drop that cluster from the rest; repeat. Clusters are APIC-ID ranges of 16,
      // which are not CPU-number ranges. A target whose cluster holds a lower target was
      // covered by that one's write. 6.1's cluster masks hold only CPUs that are up (a CPU joins
      // at boot, leaves when it is dead): an offline target is in no destination, and a cluster
      // with no online target gets no write.
      const online = m.onlineMask;
      const was = m.localIrqSave("__x2apic_send_IPI_mask", "x2apic_send_IPI_mask");
      for (let cpu = mask.first(); cpu < n; cpu = mask.next(cpu)) {
        const k = this.clusterOf[cpu];
        const end = this.clusterStart[k + 1];
        let i = this.clusterStart[k];
        while (!mask.test(this.clusterCpus[i])) i++;
        if (this.clusterCpus[i] !== cpu) continue;
        let up = i;
        while (up < end && !(mask.test(this.clusterCpus[up]) && online.test(this.clusterCpus[up]))) up++;
        if (up === end) continue;
        const ns = this.icrWrite(self, m.now) - m.now;
        if (!m.spendInline(ns)) yield ns;
        for (; up < end; up++) {
          const x = this.clusterCpus[up];
          if (mask.test(x) && online.test(x)) this.deliver(x, CALL_FUNCTION_VECTOR, m.now);
        }
      }
      m.localIrqRestore(was, "__x2apic_send_IPI_mask", "x2apic_send_IPI_mask");
    } else {
      // physflat / x2apic-phys: one write per target.
      const caller =
        this.mode === "physflat" ? "default_send_IPI_mask_sequence_phys" : "__x2apic_send_IPI_mask";
      const parent = this.mode === "physflat" ? "native_send_call_func_ipi" : "x2apic_send_IPI_mask";
      const was = m.localIrqSave(caller, parent);
      for (let cpu = mask.first(); cpu < n; cpu = mask.next(cpu)) {
        const ns = this.icrWrite(self, m.now) - m.now;
        if (!m.spendInline(ns)) yield ns;
        this.deliver(cpu, CALL_FUNCTION_VECTOR, m.now);
      }
      m.localIrqRestore(was, caller, parent);
    }
  }

  /**
   * KVM_HC_SEND_IPI as the guest's `__send_ipi_mask` builds it, interrupts off: walking the mask
   * in CPU order, a target joins the current 128-bit bitmap when its APIC ID fits in a 128-ID
   * window with the ones already there (the base may move down), else the bitmap is sent and a
   * new one starts at its APIC ID. One hypercall (one step) per bitmap; its targets, the run of
   * the mask from the bitmap's first CPU up to the CPU that did not fit, are raised when it is done.
   */
  private *pvIpiSend(mask: CpuMask): CpuCode<void> {
    const m = this.machine;
    const ids = this.apicIds;
    const n = mask.nrCpuIds;
    if (mask.first() >= n) return;
    const was = m.localIrqSave("__send_ipi_mask", "kvm_send_ipi_mask");
    let first = -1;
    let min = 0;
    let max = 0;
    for (let cpu = mask.first(); cpu < n; cpu = mask.next(cpu)) {
      const id = ids[cpu];
      if (first < 0) {
        first = cpu;
        min = max = id;
      } else if (id < min && max - id < PV_IPI_WINDOW) {
        min = id;
      } else if (id > min && id < min + PV_IPI_WINDOW) {
        if (id > max) max = id;
      } else {
        yield* this.hypercall(mask, first, cpu);
        first = cpu;
        min = max = id;
      }
    }
    if (first >= 0) yield* this.hypercall(mask, first, n);
    m.localIrqRestore(was, "__send_ipi_mask", "kvm_send_ipi_mask");
  }

  /** One PV IPI hypercall for the CPUs of `mask` in [`from`, `to`): pay for it, then raise them. */
  private *hypercall(mask: CpuMask, from: number, to: number): CpuCode<void> {
    const m = this.machine;
    this.hypercalls++;
    if (!m.spendInline(this.hypercallNs)) yield this.hypercallNs;
    for (let cpu = from; cpu < to; cpu = mask.next(cpu)) this.deliver(cpu, CALL_FUNCTION_VECTOR, m.now);
  }

  /** The single path (CALL_FUNCTION_SINGLE_VECTOR): one physical-destination write (a VM exit in a KVM guest). */
  *sendCallFunctionSingleIpi(cpu: number): CpuCode<void> {
    yield* this.sendOne(cpu, CALL_FUNCTION_SINGLE_VECTOR);
  }

  /**
   * native_smp_send_reschedule: RESCHEDULE_VECTOR to one CPU. To an offline CPU, as 6.1 (and
   * 6.12): a WARN ("sched: Unexpected reschedule of offline CPU#n!", every time: it is not a
   * WARN_ON_ONCE) and nothing is sent, no ICR write (`offlineReschedules`).
   */
  *sendRescheduleIpi(cpu: number): CpuCode<void> {
    if (!this.machine.cpus[cpu].online) {
      this.offlineReschedules++;
      this.warnings.archWarn({
        site: "x86:reschedule-offline",
        message: `reschedule IPI to offline CPU ${cpu}: not sent`,
        file: "arch/x86/kernel/apic/ipi.c",
        line: 68,
        function: "native_smp_send_reschedule",
        formatted: `sched: Unexpected reschedule of offline CPU#${cpu}!`,
      });
      return;
    }
    yield* this.sendOne(cpu, RESCHEDULE_VECTOR);
  }

  private *sendOne(cpu: number, vector: number): CpuCode<void> {
    const m = this.machine;
    const start = m.now;
    // Linux's KVM PV IPI replaces only the mask operations: one target is one ICR write.
    const t = this.icrWrite(m.current, start);
    this.deliver(cpu, vector, t);
    yield t - start;
  }

  /**
   * sysvec_call_function / sysvec_call_function_single / sysvec_reschedule_ipi: the vector moves
   * from IRR to ISR, EOI first, the x86 irq-vector tracepoints around the generic handler. The
   * frame runs the handler at its first step, as a generator would (see `beginInterrupt`).
   */
  handleInterrupt(cpu: number, line: number): CpuCode<void> {
    return this.frames.frame(cpu, line);
  }

  /**
   * A handler frame's first step. IRR -> ISR (the machine cleared the line's IRR latch when it was
   * taken), then EOI at once, as Linux's handlers do: the ISR bit is set and cleared within this
   * step, so the ISR word is left as it was and is not written (one cache line per interrupt less
   * on big machines). Returns the generic handler's flush to run, if any.
   */
  private beginInterrupt(cpu: number, line: number): CpuCode<void> | null {
    if (this.trace.enabled) return this.tracedInterrupt(cpu, line);
    const vector = vectorOfLine(line);
    this.eois++;
    if (vector === CALL_FUNCTION_VECTOR) {
      this.interruptsCallFunction++;
      return this.smp.genericSmpCallFunctionInterrupt();
    }
    if (vector === CALL_FUNCTION_SINGLE_VECTOR) {
      this.interruptsCallFunctionSingle++;
      return this.smp.genericSmpCallFunctionSingleInterrupt();
    }
    if (vector === RESCHEDULE_VECTOR) {
      this.interruptsReschedule++;
      this.smp.schedulerIpi();
    }
    return null;
  }

  /** The handler when tracing: the same work with the vector's entry and exit tracepoints around it. */
  private *tracedInterrupt(cpu: number, line: number): CpuCode<void> {
    const vector = vectorOfLine(line);
    const m = this.machine;
    this.eois++;
    if (vector === CALL_FUNCTION_VECTOR) {
      this.interruptsCallFunction++;
      this.trace.emit(m.now, cpu, m.cpus[cpu], "call_function_entry", { vector });
      yield* this.smp.genericSmpCallFunctionInterrupt();
      this.trace.emit(m.now, cpu, m.cpus[cpu], "call_function_exit", { vector });
    } else if (vector === CALL_FUNCTION_SINGLE_VECTOR) {
      this.interruptsCallFunctionSingle++;
      this.trace.emit(m.now, cpu, m.cpus[cpu], "call_function_single_entry", { vector });
      yield* this.smp.genericSmpCallFunctionSingleInterrupt();
      this.trace.emit(m.now, cpu, m.cpus[cpu], "call_function_single_exit", { vector });
    } else if (vector === RESCHEDULE_VECTOR) {
      this.interruptsReschedule++;
      this.trace.emit(m.now, cpu, m.cpus[cpu], "reschedule_entry", { vector });
      this.smp.schedulerIpi();
      this.trace.emit(m.now, cpu, m.cpus[cpu], "reschedule_exit", { vector });
    }
  }

  lineName(line: number): string {
    return vectorName(vectorOfLine(line));
  }

  statistics(): ArchStatistics {
    let merged = 0;
    for (const c of this.machine.cpus) merged += c.counters.raisesMerged;
    return {
      icrWrites: this.icrWrites,
      vectorsSent: this.vectorsSent,
      shorthandSends: this.shorthandSends,
      busyWaitNs: this.busyWaitNs,
      pvHypercalls: this.hypercalls,
      irrMerged: merged,
      interruptsCallFunction: this.interruptsCallFunction,
      interruptsCallFunctionSingle: this.interruptsCallFunctionSingle,
      interruptsReschedule: this.interruptsReschedule,
      eois: this.eois,
      offlineShorthandHits: this.offlineShorthandHits,
      offlineDropped: this.offlineDropped,
      offlineReschedules: this.offlineReschedules,
      irrDiscardedAtBoot: this.irrDiscardedAtBoot,
    };
  }
}
