/**
 * The conformance kit's ninth mutation round: porting mistakes in the *real* backends (x86's
 * local APIC, powerpc's muxed IPIs, sparc's mondo cross-calls) and in the two example ports
 * (arm64 GICv3, RISC-V SBI), one bug each, as a porter copying them could make it. Each is a
 * subclass of the real backend's ArchIpi with one method changed; the kit must fail it with a
 * message naming the bug. Here, not in core/test, since core must not depend on an arch.
 */
import { describe, expect, it } from "@jest/globals";
import * as path from "node:path";
import { instanceCachingFactory, type DependencyContainer } from "tsyringe";
import {
  ArchIpiToken,
  ArchOptionsToken,
  ArchWarningsToken,
  createSmpSystem,
  FaultInjectorToken,
  InterconnectToken,
  loadArch,
  MachineToken,
  SmpHandlersToken,
  TraceToken,
  type ArchDescriptor,
  type ArchIpi,
  type ArchStatistics,
  type CpuCode,
  type CpuMask,
  type Interconnect,
  type Machine,
  type RawArchOptions,
  type SmpHandlers,
  type TraceSink,
} from "@smpcall/core";
import { runConformance, type ConformanceResult } from "@smpcall/core/conformance";
import {
  CALL_FUNCTION_SINGLE_VECTOR,
  CALL_FUNCTION_VECTOR,
  descriptor as x86,
  LocalApicIpi,
  PV_IPI_WINDOW,
  RESCHEDULE_VECTOR,
  vectorOfLine,
} from "@smpcall/arch-x86";
import { descriptor as powerpc, LINE_DOORBELL, MuxedIpi } from "@smpcall/arch-powerpc";
import {
  CHEETAH_MAX_TARGETS,
  CPU_LIST_DONE,
  descriptor as sparc,
  HV_EOK,
  LINE_MONDO,
  LINE_SOFTINT_CALL_FUNC,
  LINE_SOFTINT_RESCHED,
  LINE_SOFTINT_SINGLE,
  MondoIpi,
  SOFTINT_OF_XCALL,
  XCALL_RECEIVE_SIGNAL,
} from "@smpcall/arch-sparc";

const PORTS = path.join(__dirname, "..", "ports");
const arm64 = loadArch(path.join(PORTS, "arm64-gic.js"));
const riscv = loadArch(path.join(PORTS, "riscv-sbi.js"));

/** `base` with its ArchIpi built by `make` (a subclass has no decorator metadata: a factory builds it). */
function withIpi(
  base: ArchDescriptor,
  name: string,
  make: (c: DependencyContainer) => ArchIpi,
  changes: Partial<ArchDescriptor> = {},
): ArchDescriptor {
  return {
    ...base,
    ...changes,
    name,
    register(container: DependencyContainer) {
      container.register(ArchIpiToken, { useFactory: instanceCachingFactory(make) });
    },
  };
}

/** Replace method `name` of a class's prototype (the real backends' helpers are private). */
function patch<T>(cls: { prototype: T }, name: string, fn: (this: never, ...args: never[]) => unknown): void {
  Object.defineProperty(cls.prototype, name, { value: fn, writable: true, configurable: true });
}

// ------------------------------------------------------------------ x86 (local APIC)

/** The private state of LocalApicIpi a mutant reads. */
interface X86Inside {
  readonly mode: string;
  readonly machine: Machine;
  readonly wires: Interconnect;
  readonly apicIds: Int32Array;
  readonly clusterOf: Int32Array;
  readonly icrBusyUntil: Float64Array;
  readonly icrWriteNs: number;
  readonly deliveryStatusNs: number;
  readonly hypercallNs: number;
  icrWrites: number;
  vectorsSent: number;
  hypercalls: number;
  lostWrite?: boolean;
  shorthandEnabled(): boolean;
  isAllButSelf(mask: CpuMask, self: number): boolean;
  icrWrite(self: number, t: number): number;
  deliver: (this: X86Inside, cpu: number, vector: number, t: number) => void;
}

function x86Mutant(name: string, cls: typeof LocalApicIpi): ArchDescriptor {
  return withIpi(
    x86,
    name,
    (c) =>
      new cls(
        c.resolve<Machine>(MachineToken),
        c.resolve<Interconnect>(InterconnectToken),
        c.resolve<SmpHandlers>(SmpHandlersToken),
        c.resolve<TraceSink>(TraceToken),
        c.resolve(ArchOptionsToken),
        c.resolve(ArchWarningsToken),
      ),
  );
}
const x86In = (o: LocalApicIpi): X86Inside => o as unknown as X86Inside;

/** A mask send in the mode's own way, unless it is the all-but-self shorthand (then as the real one). */
abstract class X86MaskMutant extends LocalApicIpi {
  protected abstract mutantMask(mask: CpuMask): CpuCode<void>;
  protected abstract appliesTo(mode: string): boolean;
  override *sendCallFunctionIpiMask(mask: CpuMask): CpuCode<void> {
    const me = x86In(this);
    if (!this.appliesTo(me.mode) || (me.shorthandEnabled() && me.isAllButSelf(mask, me.machine.current)))
      return yield* super.sendCallFunctionIpiMask(mask);
    yield* this.mutantMask(mask);
  }
}

/** x2APIC cluster: the logical destination built from the CPU number, not the APIC ID. */
class ClusterFromCpuNumber extends X86MaskMutant {
  protected appliesTo(mode: string): boolean {
    return mode === "x2apic-cluster";
  }
  protected *mutantMask(mask: CpuMask): CpuCode<void> {
    const me = x86In(this);
    const m = me.machine;
    for (let cpu = mask.first(); cpu < mask.nrCpuIds; cpu = mask.next(cpu)) {
      // Cluster cpu >> 4, bit cpu & 15: the write reaches the CPU whose APIC ID is `cpu`.
      const t = me.icrWrite(m.current, m.now);
      const reached = me.apicIds.indexOf(cpu);
      if (reached >= 0) me.deliver(reached, CALL_FUNCTION_VECTOR, t);
      yield t - m.now;
    }
  }
}

/** x2APIC cluster: each write names every online CPU of the cluster (its cached mask), not the targets. */
class ClusterWholeCluster extends X86MaskMutant {
  protected appliesTo(mode: string): boolean {
    return mode === "x2apic-cluster";
  }
  protected *mutantMask(mask: CpuMask): CpuCode<void> {
    const me = x86In(this);
    const m = me.machine;
    const self = m.current;
    const done = new Set<number>();
    for (let cpu = mask.first(); cpu < mask.nrCpuIds; cpu = mask.next(cpu)) {
      const k = me.clusterOf[cpu];
      if (done.has(k)) continue;
      done.add(k);
      const t = me.icrWrite(self, m.now);
      for (let x = 0; x < m.nrCpus; x++)
        if (x !== self && me.clusterOf[x] === k && m.onlineMask.test(x))
          me.deliver(x, CALL_FUNCTION_VECTOR, t);
      yield t - m.now;
    }
  }
}

/** xAPIC: no wait for the ICR's delivery-status bit; a write while it is still set is lost. */
class NoDeliveryStatusWait extends LocalApicIpi {}
patch(NoDeliveryStatusWait, "icrWrite", function (this: X86Inside, self: number, t: number): number {
  this.lostWrite = this.icrBusyUntil[self] > t; // the previous command still pending: this one is dropped
  t += this.icrWriteNs;
  this.icrBusyUntil[self] = t + this.deliveryStatusNs;
  this.icrWrites++;
  return t;
});
const realDeliver = (LocalApicIpi.prototype as unknown as X86Inside).deliver;
patch(
  NoDeliveryStatusWait,
  "deliver",
  function (this: X86Inside, cpu: number, vector: number, t: number): void {
    if (this.lostWrite) this.vectorsSent++;
    else realDeliver.call(this, cpu, vector, t);
  },
);

/** The physical-mode mask loop ends with local_irq_enable() instead of restoring the caller's state. */
class MaskLoopEnablesIrqs extends LocalApicIpi {
  override *sendCallFunctionIpiMask(mask: CpuMask): CpuCode<void> {
    yield* super.sendCallFunctionIpiMask(mask);
    const me = x86In(this);
    if (me.mode === "x2apic-phys" && mask.weight() > 1) me.machine.localIrqEnable();
  }
}

/** KVM PV IPI: an APIC ID 128 above the bitmap's base joins the bitmap (`<=`) and is lost (bit 128 of 128). */
class PvWindowOffByOne extends LocalApicIpi {}
patch(PvWindowOffByOne, "pvIpiSend", function* (this: X86Inside, mask: CpuMask): CpuCode<void> {
  const m = this.machine;
  const ids = this.apicIds;
  const n = mask.nrCpuIds;
  if (mask.first() >= n) return;
  const was = m.localIrqSave();
  let first = -1;
  let min = 0;
  let max = 0;
  const call = function* (me: X86Inside, to: number): CpuCode<void> {
    me.hypercalls++;
    if (!m.spendInline(me.hypercallNs)) yield me.hypercallNs;
    for (let cpu = first; cpu < to; cpu = mask.next(cpu))
      if (ids[cpu] - min < PV_IPI_WINDOW) me.deliver(cpu, CALL_FUNCTION_VECTOR, m.now);
      else me.vectorsSent++; // past the 128-bit bitmap
  };
  for (let cpu = mask.first(); cpu < n; cpu = mask.next(cpu)) {
    const id = ids[cpu];
    if (first < 0) {
      first = cpu;
      min = max = id;
    } else if (id < min && max - id <= PV_IPI_WINDOW) {
      min = id;
    } else if (id > min && id <= min + PV_IPI_WINDOW) {
      if (id > max) max = id;
    } else {
      yield* call(this, cpu);
      first = cpu;
      min = max = id;
    }
  }
  yield* call(this, n);
  m.localIrqRestore(was);
});

/** vectorsSent (the signal statistic) counted once per ICR write in the multicast modes, not per target. */
class SignalsPerWrite extends LocalApicIpi {
  override *sendCallFunctionIpiMask(mask: CpuMask): CpuCode<void> {
    const me = x86In(this);
    const sent = me.vectorsSent;
    const writes = me.icrWrites;
    yield* super.sendCallFunctionIpiMask(mask);
    if (me.mode === "flat" || me.mode === "x2apic-cluster") me.vectorsSent = sent + (me.icrWrites - writes);
  }
}

/** pvIpi=true: the hypercall's targets are not counted in vectorsSent (the signal statistic): the hypercall path bypasses `deliver`'s count. */
class PvTargetsUncounted extends LocalApicIpi {
  override *sendCallFunctionIpiMask(mask: CpuMask): CpuCode<void> {
    const me = x86In(this) as X86Inside & { pvIpi: boolean };
    const sent = me.vectorsSent;
    const hypercalls = me.hypercalls;
    yield* super.sendCallFunctionIpiMask(mask);
    if (me.pvIpi && me.hypercalls > hypercalls) me.vectorsSent = sent;
  }
}

/** The traced receive path (tracing on) forgets to count its EOI: the statistics differ when a run is traced. */
class TracedPathSkipsEoi extends LocalApicIpi {}
patch(
  TracedPathSkipsEoi,
  "tracedInterrupt",
  function* (
    this: X86Inside & { smp: SmpHandlers; trace: TraceSink; interruptsCallFunction: number },
    cpu: number,
    line: number,
  ): CpuCode<void> {
    const vector = vectorOfLine(line);
    const m = this.machine;
    // (no this.eois++ here, unlike the untraced path)
    const [entry, exit] = TRACEPOINTS[vector];
    this.trace.emit(m.now, cpu, m.cpus[cpu], entry, { vector });
    if (vector === CALL_FUNCTION_VECTOR) yield* this.smp.genericSmpCallFunctionInterrupt();
    else if (vector === CALL_FUNCTION_SINGLE_VECTOR) yield* this.smp.genericSmpCallFunctionSingleInterrupt();
    else if (vector === RESCHEDULE_VECTOR) this.smp.schedulerIpi();
    this.trace.emit(m.now, cpu, m.cpus[cpu], exit, { vector });
  },
);
const TRACEPOINTS: Record<number, [string, string]> = {
  [CALL_FUNCTION_VECTOR]: ["call_function_entry", "call_function_exit"],
  [CALL_FUNCTION_SINGLE_VECTOR]: ["call_function_single_entry", "call_function_single_exit"],
  [RESCHEDULE_VECTOR]: ["reschedule_entry", "reschedule_exit"],
};

/** The traced receive path (tracing on) enters and leaves the reschedule vector without calling schedulerIpi. */
class TracedPathDropsReschedule extends LocalApicIpi {}
const realTracedInterrupt = (
  LocalApicIpi.prototype as unknown as {
    tracedInterrupt: (this: LocalApicIpi, cpu: number, line: number) => CpuCode<void>;
  }
).tracedInterrupt;
patch(
  TracedPathDropsReschedule,
  "tracedInterrupt",
  function* (this: LocalApicIpi, cpu: number, line: number): CpuCode<void> {
    const vector = vectorOfLine(line);
    if (vector !== RESCHEDULE_VECTOR) return yield* realTracedInterrupt.call(this, cpu, line);
    const me = x86In(this) as X86Inside & { trace: TraceSink; eois: number };
    const m = me.machine;
    me.eois++;
    me.trace.emit(m.now, cpu, m.cpus[cpu], "reschedule_entry", { vector });
    me.trace.emit(m.now, cpu, m.cpus[cpu], "reschedule_exit", { vector });
  },
);

// ------------------------------------------------------------------ powerpc (muxed messages)

interface PpcInside {
  readonly machine: Machine;
  readonly wires: Interconnect;
  readonly route: { sibling: string; remote: string };
  readonly words: Uint8Array;
  readonly doorbellSendNs: number;
  readonly doorbellLatencyNs: number;
  readonly xicsController: boolean;
  readonly demux: {
    acknowledge(cpu: number, line: number): void;
    eoi(cpu: number, line: number): void;
  };
  doorbells: number;
  ipisCaused: number;
  interrupts: number;
  doorbellAcks: number;
  controllerEois: number;
  mfrrResetWiped: number;
  causeIpi: (this: PpcInside, cpu: number) => number;
}
const ppcIn = (o: MuxedIpi): PpcInside => o as unknown as PpcInside;

function ppcMutant(name: string, cls: typeof MuxedIpi): ArchDescriptor {
  return withIpi(
    powerpc,
    name,
    (c) =>
      new cls(
        c.resolve<Machine>(MachineToken),
        c.resolve<Interconnect>(InterconnectToken),
        c.resolve<SmpHandlers>(SmpHandlersToken),
        c.resolve<TraceSink>(TraceToken),
        c.resolve(ArchOptionsToken),
      ),
  );
}
const realCauseIpi = (MuxedIpi.prototype as unknown as PpcInside).causeIpi;

/** POWER8: msgsnd used for every target; it names a thread number only, so it rings that thread of the sender's core. */
class DoorbellAcrossCores extends MuxedIpi {}
patch(DoorbellAcrossCores, "causeIpi", function (this: PpcInside, cpu: number): number {
  const m = this.machine;
  if (this.route.remote !== "xics-mfrr" || m.topology.sameCore(m.current, cpu))
    return realCauseIpi.call(this, cpu);
  this.ipisCaused++;
  this.doorbells++;
  const rung = m.topology.cpuOf(m.topology.coreOf(m.current), m.topology.threadOf(cpu));
  if (rung >= 0) this.wires.raise(rung, LINE_DOORBELL, this.doorbellSendNs + this.doorbellLatencyNs);
  return this.doorbellSendNs;
});

/** A KVM XIVE guest sending msgsndp to siblings (KVM does not emulate it there): the doorbell is lost. */
class MsgsndpInKvmXive extends MuxedIpi {}
patch(MsgsndpInKvmXive, "causeIpi", function (this: PpcInside, cpu: number): number {
  const m = this.machine;
  if (this.route.sibling !== "controller" || !m.topology.sameCore(m.current, cpu))
    return realCauseIpi.call(this, cpu);
  this.ipisCaused++;
  this.doorbells++;
  return this.doorbellSendNs; // the msgsndp faults in the guest and nothing is delivered
});

/**
 * The message byte stored after cause_ipi (no barrier between them, the store issued after the
 * msgsnd): it becomes visible only once the send's cost is paid, and a fast doorbell can land first.
 */
class MessageAfterCause extends MuxedIpi {}
patch(
  MessageAfterCause,
  "messagePass",
  function (this: PpcInside & { messagesSent: number }, cpu: number, msg: number): number {
    this.messagesSent++;
    const ns = this.causeIpi(cpu);
    const words = this.words;
    this.wires.schedule(ns, () => {
      words[cpu] |= 1 << msg;
    });
    return ns;
  },
);

/** XIVE: the boot hook clears the pending IPI but forgets the CPU's ESB PQ bits (P left set: later triggers only set Q). */
class BootKeepsEsb extends MuxedIpi {
  constructor(...args: ConstructorParameters<typeof MuxedIpi>) {
    super(...args);
    const me = ppcIn(this) as PpcInside & { esb: Uint8Array | null };
    const esb = me.esb;
    if (esb === null) return;
    const kept = new Uint8Array(esb.length);
    // Registered after the real hook, which resets PQ: put back what the CPU had when it went down.
    me.wires.onCpuBoot((cpu) => {
      esb[cpu] = kept[cpu];
    });
    const m = me.machine;
    const orig = me.causeIpi;
    (me as unknown as { causeIpi(cpu: number): number }).causeIpi = (cpu: number): number => {
      const ns = orig.call(me, cpu);
      if (!m.onlineMask.test(cpu)) kept[cpu] = esb[cpu];
      return ns;
    };
  }
}

/** The acknowledgement statistic counts doorbell acks only (the controller's EOIs left out). */
class AcksDoorbellsOnly extends MuxedIpi {
  override statistics(): ArchStatistics {
    const s = super.statistics();
    return { ...s, acks: s.doorbellAcks };
  }
}

// ------------------------------------------------------------------ sparc (mondo cross-calls)

interface SparcInside {
  readonly machine: Machine;
  readonly wires: Interconnect;
  readonly platform: string;
  readonly queues: {
    queued(cpu: number): number;
    reserved(cpu: number): number;
    fill(cpu: number, xcall: number): void;
    take(cpu: number): number;
    setSoftint(cpu: number, line: number): boolean;
    full(cpu: number): boolean;
  };
  readonly incoming: Uint8Array;
  readonly errorCpus: CpuMask;
  readonly dispatchNs: number;
  readonly busyPollNs: number;
  readonly nackRate: number;
  readonly faults: { chance(p: number, what: string): boolean };
  mondoTraps: number;
  softintsCoalesced: number;
  dispatches: number;
  maxDispatchBatch: number;
  nacks: number;
  retries: number;
  udelays: number;
  retryNs: number;
  deliver(cpu: number, xcall: number, afterNs: number): void;
  udelay(ns: number): CpuCode<void>;
  stuckage(cpu: number): void;
  cpuMondoSend: (this: SparcInside, list: Int32Array, cnt: number, xcall: number) => CpuCode<number>;
  xcallDeliver(mask: CpuMask | null, single: number, xcall: number): CpuCode<void>;
}

function sparcMutant(name: string, cls: typeof MondoIpi): ArchDescriptor {
  return withIpi(
    sparc,
    name,
    (c) =>
      new cls(
        c.resolve<Machine>(MachineToken),
        c.resolve<Interconnect>(InterconnectToken),
        c.resolve<SmpHandlers>(SmpHandlersToken),
        c.resolve<TraceSink>(TraceToken),
        c.resolve(FaultInjectorToken),
        c.resolve(ArchOptionsToken),
      ),
  );
}

/** The cpu-mondo trap as 6.1 has it, with `softintOf` choosing the softint of each xcall. */
function mondoTrap(softintOf: (xcall: number) => number, trapAgain: boolean) {
  return function (this: SparcInside, cpu: number): void {
    const q = this.queues;
    if (q.queued(cpu) === 0) {
      if (this.platform === "sun4v" || q.reserved(cpu) === 0) return;
      q.fill(cpu, this.incoming[cpu]);
    }
    this.mondoTraps++;
    const softint = softintOf(q.take(cpu));
    if (q.setSoftint(cpu, softint)) this.wires.raise(cpu, softint, 0);
    else this.softintsCoalesced++;
    if (trapAgain && q.queued(cpu) > 0) this.wires.raise(cpu, LINE_MONDO, 0);
  };
}

/** The cpu-mondo trap takes one queue entry and does not trap again while entries remain. */
class OneEntryPerTrapNoRetrap extends MondoIpi {}
patch(
  OneEntryPerTrapNoRetrap,
  "mondoTrap",
  mondoTrap((x) => SOFTINT_OF_XCALL[x], false),
);

/** The softint table maps xcall_receive_signal to PIL_SMP_CALL_FUNC (a reschedule taken as a call). */
class ReceiveSignalOnCallFuncPil extends MondoIpi {}
patch(
  ReceiveSignalOnCallFuncPil,
  "mondoTrap",
  mondoTrap((x) => (x === XCALL_RECEIVE_SIGNAL ? LINE_SOFTINT_CALL_FUNC : SOFTINT_OF_XCALL[x]), true),
);

/** sun4v: a retry re-sends the whole CPU list, CPUs that already took the mondo included (done marks undone). */
class RetryResendsDelivered extends MondoIpi {}
const realMondoSend = (MondoIpi.prototype as unknown as SparcInside).cpuMondoSend;
patch(
  RetryResendsDelivered,
  "cpuMondoSend",
  function* (this: SparcInside, list: Int32Array, cnt: number, xcall: number): CpuCode<number> {
    const before = list.slice(0, cnt);
    const status = yield* realMondoSend.call(this, list, cnt, xcall);
    if (status !== HV_EOK) for (let i = 0; i < cnt; i++) if (list[i] === CPU_LIST_DONE) list[i] = before[i];
    return status;
  },
);

/** Cheetah: a batch's 32 slots counted over the whole list, done entries too: past 32 targets it dispatches nothing. */
class CheetahSlotsCountDone extends MondoIpi {}
patch(
  CheetahSlotsCountDone,
  "cheetahXcallDeliver",
  function* (this: SparcInside, list: Int32Array, cnt: number, xcall: number): CpuCode<void> {
    let remaining = cnt;
    while (remaining > 0) {
      let ns = 0;
      let slots = 0;
      let nacked = 0;
      for (let i = 0; i < cnt && slots < CHEETAH_MAX_TARGETS; i++) {
        const cpu = list[i];
        slots++; // counted before the done test
        if (cpu === CPU_LIST_DONE) continue;
        ns += this.dispatchNs;
        if (this.queues.full(cpu) || (this.nackRate > 0 && this.faults.chance(this.nackRate, "sparc.nack"))) {
          nacked++;
        } else {
          this.deliver(cpu, xcall, ns);
          list[i] = CPU_LIST_DONE;
          remaining--;
        }
      }
      this.dispatches++;
      if (slots > this.maxDispatchBatch) this.maxDispatchBatch = slots;
      yield ns + this.busyPollNs;
      if (nacked > 0) {
        this.nacks += nacked;
        this.retries++;
        this.udelays++;
        this.retryNs += 2000 * slots;
        yield* this.udelay(2000 * slots);
      }
    }
  },
);

/** xcall_deliver's single path does not skip an offline target: sun4v says HV_ENOCPU, reported as an error. */
class SingleKeepsOfflineTarget extends MondoIpi {}
patch(
  SingleKeepsOfflineTarget,
  "xcallDeliver",
  function* (this: SparcInside, mask: CpuMask | null, single: number, xcall: number): CpuCode<void> {
    if (mask !== null || single === this.machine.current || this.machine.cpus[single].online)
      return yield* (MondoIpi.prototype as unknown as SparcInside).xcallDeliver.call(
        this,
        mask,
        single,
        xcall,
      );
    const m = this.machine;
    const was = m.localIrqSave();
    const list = Int32Array.of(single);
    yield* (
      this as unknown as { hypervisorXcallDeliver(l: Int32Array, c: number, x: number): CpuCode<void> }
    ).hypervisorXcallDeliver(list, 1, xcall);
    m.localIrqRestore(was);
  },
);

/** The call-function softint's stage 2 clears the single softint's bit (copied from the single handler): its own stays set. */
class ClearsWrongSoftint extends MondoIpi {}
patch(
  ClearsWrongSoftint,
  "beginInterrupt",
  function (
    this: SparcInside & {
      smp: SmpHandlers;
      softints: number;
      mondoTrap(cpu: number): void;
      queues: { clearSoftint(cpu: number, line: number): void };
    },
    cpu: number,
    line: number,
  ): CpuCode<void> | null {
    if (line === LINE_MONDO) {
      this.mondoTrap(cpu);
      return null;
    }
    this.softints++;
    this.queues.clearSoftint(cpu, line === LINE_SOFTINT_CALL_FUNC ? LINE_SOFTINT_SINGLE : line);
    if (line === LINE_SOFTINT_CALL_FUNC) return this.smp.genericSmpCallFunctionInterrupt();
    if (line === LINE_SOFTINT_SINGLE) return this.smp.genericSmpCallFunctionSingleInterrupt();
    if (line === LINE_SOFTINT_RESCHED) this.smp.schedulerIpi();
    return null;
  },
);

// ------------------------------------------------------------------ the example ports (JavaScript)

/** What a port's ArchIpi looks like to a subclass: its own fields are public (plain JavaScript). */
interface PortIpi extends ArchIpi {
  machine: Machine;
  wires: Interconnect;
  smp: SmpHandlers;
  latencyNs: number;
}
type PortClass = new (
  machine: Machine,
  wires: Interconnect,
  smp: SmpHandlers,
  trace: TraceSink,
  options: unknown,
) => PortIpi;

/** The ArchIpi class of a port (it exports its descriptor only): the constructor of an instance. */
function ipiClassOf(d: ArchDescriptor): PortClass {
  return createSmpSystem({ cpus: 2, seed: 1, arch: d }).arch.constructor as PortClass;
}
function portMutant(base: ArchDescriptor, name: string, cls: PortClass): ArchDescriptor {
  return withIpi(
    base,
    name,
    (c) =>
      new cls(
        c.resolve<Machine>(MachineToken),
        c.resolve<Interconnect>(InterconnectToken),
        c.resolve<SmpHandlers>(SmpHandlersToken),
        c.resolve<TraceSink>(TraceToken),
        c.resolve(ArchOptionsToken),
      ),
  );
}

interface RiscvInside extends PortIpi {
  mode: string;
  xlen: number;
  setMessage(cpu: number, msg: number): void;
  trigger(cpu: number): void;
  pay(): number;
}
const RiscvIpi = ipiClassOf(riscv);

/** SBI: the hart mask's bit is hart % XLEN while the base is the window's first hart (harts land base + hart % XLEN). */
class HartBitModXlen extends RiscvIpi {
  override *sendCallFunctionIpiMask(mask: CpuMask): CpuCode<void> {
    const me = this as unknown as RiscvInside;
    const n = mask.nrCpuIds;
    for (let c = mask.first(); c < n; c = mask.next(c)) me.setMessage(c, 1);
    let base = mask.first();
    for (let c = base; base < n; c = mask.next(c)) {
      if (c < n && c < base + me.xlen) continue;
      yield me.pay();
      for (let t = base; t < c; t = mask.next(t))
        if (base + (t % me.xlen) < n) me.trigger(base + (t % me.xlen));
      base = c;
    }
  }
}

/** The message bit set after the SBI ecall returns (send_ipi before set_bit): the IPI can find an empty word. */
class MessageAfterEcall extends RiscvIpi {
  override *sendCallFunctionSingleIpi(cpu: number): CpuCode<void> {
    const me = this as unknown as RiscvInside;
    const ns = me.pay();
    me.trigger(cpu);
    yield ns;
    me.setMessage(cpu, 1);
  }
}

/** SBI: the hart mask kept in a 32-bit int: harts base+32 .. base+63 of a 64-hart window alias base .. base+31. */
class HartMaskInInt32 extends RiscvIpi {
  override *sendCallFunctionIpiMask(mask: CpuMask): CpuCode<void> {
    const me = this as unknown as RiscvInside;
    const n = mask.nrCpuIds;
    for (let c = mask.first(); c < n; c = mask.next(c)) me.setMessage(c, 1);
    let base = mask.first();
    for (let c = base; base < n; c = mask.next(c)) {
      if (c < n && c < base + me.xlen) continue;
      let bits = 0;
      for (let t = base; t < c; t = mask.next(t)) bits |= 1 << (t - base);
      yield me.pay();
      for (let b = 0; b < 32; b++) if ((bits >>> b) & 1) me.trigger(base + b);
      base = c;
    }
  }
}

interface Arm64Inside extends PortIpi {
  aff0PerCluster: number;
  irm: boolean;
  splitEoi: boolean;
  iarReads: number;
  barrierNs: number;
  clusterOf(cpu: number): number;
  writeSgi1r(intid: number, cluster: number, targets: number, irm: boolean): number;
  raise(cpu: number, intid: number): void;
}
const Arm64GicIpi = ipiClassOf(arm64);
const SGI_CALL_FUNC = 1;

/** GICv3: the SGI1R target list taken as 15 bits wide: Aff0 15 of every cluster is never reached by a mask. */
class TargetList15Bits extends Arm64GicIpi {
  override *sendCallFunctionIpiMask(mask: CpuMask): CpuCode<void> {
    const me = this as unknown as Arm64Inside;
    const n = mask.nrCpuIds;
    yield me.barrierNs;
    let first = mask.first();
    while (first < n) {
      const cluster = me.clusterOf(first);
      let targets = 0;
      let c = first;
      for (; c < n && me.clusterOf(c) === cluster; c = mask.next(c)) targets |= 1 << (c % me.aff0PerCluster);
      yield me.writeSgi1r(SGI_CALL_FUNC, cluster, targets & 0x7fff, false);
      for (let t = first; t < c; t = mask.next(t))
        if ((targets & 0x7fff & (1 << (t % me.aff0PerCluster))) !== 0) me.raise(t, SGI_CALL_FUNC);
      first = c;
    }
    yield me.barrierNs;
  }
}

/** mode=irm: the all-but-self test counts online CPUs only, and the IRM write also reaches offline CPUs (their SGI stays pending). */
class IrmReachesOffline extends Arm64GicIpi {
  override *sendCallFunctionIpiMask(mask: CpuMask): CpuCode<void> {
    const me = this as unknown as Arm64Inside;
    const m = me.machine;
    if (!me.irm || mask.weight() !== m.onlineMask.weight() - 1)
      return yield* super.sendCallFunctionIpiMask(mask);
    yield me.barrierNs;
    yield me.writeSgi1r(SGI_CALL_FUNC, 0, 0, true);
    for (let c = 0; c < m.nrCpus; c++) if (c !== m.current) me.raise(c, SGI_CALL_FUNC);
    yield me.barrierNs;
  }
}

/** mode=irm: the IRM write's SGIs are not counted in sgisRaised (the raise statistic). */
class IrmRaisesUncounted extends Arm64GicIpi {
  override *sendCallFunctionIpiMask(mask: CpuMask): CpuCode<void> {
    const me = this as unknown as Arm64Inside & { sgisRaised: number; irmWrites: number };
    const raised = me.sgisRaised;
    const irm = me.irmWrites;
    yield* super.sendCallFunctionIpiMask(mask);
    if (me.irmWrites > irm) me.sgisRaised = raised;
  }
}

/** eoi=combined: the IAR read (the acknowledgement statistic) counted only in the split-EOI branch. */
class IarCountedInSplitOnly extends Arm64GicIpi {
  override *handleInterrupt(cpu: number, line: number): CpuCode<void> {
    const me = this as unknown as Arm64Inside;
    const before = me.iarReads;
    yield* super.handleInterrupt(cpu, line);
    if (!me.splitEoi) me.iarReads = before;
  }
}

// ------------------------------------------------------------------ the table

/** A mutant: the backend it comes from, its bug, its descriptor, the options the kit runs it with, the message. */
type Mutant = [from: string, bug: string, d: ArchDescriptor, options: RawArchOptions, message: RegExp];

const MUTANTS: Mutant[] = [
  [
    "x86",
    "x2APIC cluster: the logical destination built from the CPU number, not the APIC ID",
    x86Mutant("x86-cluster-cpu-number", ClusterFromCpuNumber),
    {},
    /mask-ipi-exact: mask "2 CPUs" from CPU 1 on 64 CPUs: IPIs went to the wrong CPU: \[2, 3\] never took one/,
  ],
  [
    "x86",
    "x2APIC cluster: each write names every online CPU of the target's cluster, not the targets' bits",
    x86Mutant("x86-cluster-whole", ClusterWholeCluster),
    {},
    /mask-ipi-exact: mask "2 CPUs" from CPU 1 on 64 CPUs: CPU\(s\) \[0, 4, 5, .*\] are not targets but took the IPI \(the mask was not respected\)/,
  ],
  [
    "x86",
    "xAPIC physflat: no wait for the ICR delivery-status bit (a write while it is still set is lost)",
    x86Mutant("x86-no-ds-wait", NoDeliveryStatusWait),
    { apic: "physflat" },
    /mask-ipi-exact: mask "2 CPUs" from CPU 1 on 64 CPUs: \[3\] never took the IPI \(IPI lost\)/,
  ],
  [
    "x86",
    "x2APIC phys: the mask loop ends with local_irq_enable() instead of restoring the caller's state",
    x86Mutant("x86-irq-enable", MaskLoopEnablesIrqs),
    { apic: "x2apic-phys" },
    /interrupt-state-kept: sends with interrupts off and on from CPU 0: sendCallFunctionIpiMask \(CPUs 2\) on CPU 0 returned with interrupts enabled; it was entered with them disabled/,
  ],
  [
    "x86",
    "KVM PV IPI: an APIC ID 128 above the bitmap's base joins it (<= for <) and is lost",
    x86Mutant("x86-pv-window", PvWindowOffByOne),
    { pvIpi: "true" },
    /mask-word-boundaries: 8192 CPUs, sender CPU 0: mask \[0, 1, 2, .*\(never finished: run status deadlock\): \[65\] never took the IPI \(IPI lost\)/,
  ],
  [
    "x86",
    "vectorsSent (the signal statistic) counted per ICR write in the flat and cluster modes, not per target",
    x86Mutant("x86-signals-per-write", SignalsPerWrite),
    {},
    /signal-statistic-per-target: .*a mask call to CPUs 2 and 6 \(targets \[2, 6\]\) added 1 to statistic vectorsSent, expected 2/,
  ],
  [
    "x86",
    "tracing on: the traced receive path forgets to count its EOI",
    x86Mutant("x86-traced-eoi", TracedPathSkipsEoi),
    {},
    /statistics-consistent: a traced mixed workload on 12 CPUs: acknowledgements \(eois = 0\) must equal the interrupts that need one \(interrupts taken = \d+\)/,
  ],
  [
    "powerpc",
    "POWER8: msgsnd to a thread of another core (it rings that thread of the sender's own core)",
    ppcMutant("ppc-doorbell-across", DoorbellAcrossCores),
    { platform: "powernv-power8" },
    /mask-ipi-exact: mask "half" from CPU 1 on 64 CPUs: \[8, 10, 12, .*never took the IPI \(IPI lost\)/,
  ],
  [
    "powerpc",
    "KVM XIVE guest: msgsndp to siblings, which KVM does not emulate there (the doorbell is lost)",
    ppcMutant("ppc-msgsndp-kvm", MsgsndpInKvmXive),
    { platform: "pseries-kvm-xive" },
    /single-ipi-exact-target: single call 0 -> 7 on 8 CPUs: \[7\] never took the IPI \(IPI lost\)/,
  ],
  [
    "powerpc",
    "POWER9: the message byte stored after cause_ipi (visible only once the send is paid for)",
    ppcMutant("ppc-message-after-cause", MessageAfterCause),
    { platform: "powernv-power9" },
    /random-schedules-exactly-once: random schedule \d+: expected the run to complete with no problems, got status deadlock/,
  ],
  [
    "powerpc",
    "XIVE: the boot hook clears the pending IPI but forgets the CPU's ESB PQ bits",
    ppcMutant("ppc-xive-boot-esb", BootKeepsEsb),
    { platform: "pseries-kvm-xive" },
    /offline-delivery-safe: a call to CPU 5 after it came back online: expected the callback on \[5\], it ran on \[\]/,
  ],
  [
    "powerpc",
    "the acknowledgement statistic leaves out the interrupt controller's EOIs (doorbell acks only)",
    ppcMutant("ppc-acks-doorbell", AcksDoorbellsOnly),
    { platform: "powernv-power8" },
    /receive-acknowledges-once: a mixed workload on 16 CPUs: acknowledgements \(acks = \d+\) must equal the interrupts that need one \(interrupts taken = \d+\): an interrupt was not acknowledged/,
  ],
  [
    "sparc",
    "the cpu-mondo trap takes one entry and does not trap again while entries remain",
    sparcMutant("sparc-no-retrap", OneEntryPerTrapNoRetrap),
    {},
    /reschedule-and-call-messages: a reschedule then a call to CPU 5 with interrupts off \(taken together\): the call never ran on CPU\(s\) 5/,
  ],
  [
    "sparc",
    "xcall_receive_signal mapped to the PIL_SMP_CALL_FUNC softint (a reschedule taken as a call)",
    sparcMutant("sparc-pil-swap", ReceiveSignalOnCallFuncPil),
    {},
    /mask-word-boundaries: 33 CPUs, sender CPU 0: a reschedule IPI to CPU\(s\) \[1, 2, .*never reached schedulerIpi/,
  ],
  [
    "sparc",
    "sun4v: a retry re-sends to CPUs that already took the mondo",
    sparcMutant("sparc-resend-done", RetryResendsDelivered),
    {},
    /permanent-faults-reported: .*genericSmpCallFunctionInterrupt on CPU \d+ 2 time\(s\) .*a spurious call-function message/,
  ],
  [
    "sparc",
    "Cheetah: a batch's 32 slots counted over done entries too (past 32 targets nothing is dispatched)",
    sparcMutant("sparc-cheetah-slots", CheetahSlotsCountDone),
    { platform: "sun4u-cheetah" },
    /mask-ipi-exact: mask "all-but-self" from CPU 1 on 64 CPUs ran out of its event budget .*still in sendCallFunctionIpiMask \(63 CPUs\).*the backend never finishes/,
  ],
  [
    "sparc",
    "xcall_deliver's single path keeps an offline target (sun4v's HV_ENOCPU reported as an error)",
    sparcMutant("sparc-single-offline", SingleKeepsOfflineTarget),
    {},
    /offline-delivery-safe: offline CPU: .*SUN4V mondo cpu error, target cpu\(5\) does not belong to the domain/,
  ],
  [
    "riscv",
    "SBI: the hart mask bit is hart % XLEN while the base is the window's first hart",
    portMutant(riscv, "riscv-hart-bit", HartBitModXlen),
    {},
    /mask-ipi-exact: mask "2 CPUs" from CPU 1 on 64 CPUs: \[2, 3\] never took the IPI \(IPI lost\)/,
  ],
  [
    "riscv",
    "SBI: the hart mask kept in a 32-bit int (harts base+32 .. base+63 lost)",
    portMutant(riscv, "riscv-mask-int32", HartMaskInInt32),
    {},
    /mask-ipi-exact: mask "half" from CPU 1 on 64 CPUs: \[32, 34, 36, .*never took the IPI \(IPI lost\)/,
  ],
  [
    "riscv",
    "the message bit set after the SBI ecall returns (the IPI finds an empty word)",
    portMutant(riscv, "riscv-bit-late", MessageAfterEcall),
    {},
    /mask-word-boundaries: 33 CPUs, sender CPU 0: single call to CPU 31 \(never finished: run status deadlock\)/,
  ],
  [
    "arm64",
    "GICv3: the SGI1R target list taken as 15 bits (Aff0 15 never reached by a mask)",
    portMutant(arm64, "arm64-15-bits", TargetList15Bits),
    {},
    /mask-ipi-exact: mask "all-but-self" from CPU 1 on 64 CPUs: \[15, 31, 47, 63\] never took the IPI \(IPI lost\)/,
  ],
  [
    "arm64",
    "mode=irm: the all-but-self test counts online CPUs only; the IRM write also reaches offline CPUs",
    portMutant(arm64, "arm64-irm-offline", IrmReachesOffline),
    { mode: "irm" },
    /targets-after-hotplug-holes: .*genericSmpCallFunctionInterrupt on CPU 0 2 time\(s\) .*a spurious call-function message/,
  ],
  [
    "arm64",
    "eoi=combined (not the run's value): the IAR read counted only in the split-EOI branch",
    portMutant(arm64, "arm64-iar-split", IarCountedInSplitOnly),
    {},
    /statistics-consistent: with --arch-opt eoi=combined: sends from CPU 0 to idle CPUs of an 8-CPU machine, one at a time: acknowledgements \(iarReads = \d+\) must equal the interrupts that need one \(interrupts taken = \d+\)/,
  ],
  [
    "x86",
    "pvIpi=true (not the run's value): the hypercall's targets not counted in vectorsSent",
    x86Mutant("x86-pv-uncounted", PvTargetsUncounted),
    {},
    /statistics-consistent: with --arch-opt pvIpi=true: sends from CPU 0 to idle CPUs of an 8-CPU machine, one at a time: a mask call to CPUs 2 and 6 \(targets \[2, 6\]\) added 0 to statistic vectorsSent, expected 2/,
  ],
  [
    "arm64",
    "mode=irm (not the run's value): the IRM write's SGIs not counted in sgisRaised",
    portMutant(arm64, "arm64-irm-uncounted", IrmRaisesUncounted),
    {},
    /statistics-consistent: with --arch-opt mode=irm: sends from CPU 0 to idle CPUs of an 8-CPU machine, one at a time: a mask call to every CPU but the sender added 0 to statistic sgisRaised but the backend raised 7 line\(s\)/,
  ],
  [
    "x86",
    "tracing on: the traced receive path drops the reschedule (no schedulerIpi)",
    x86Mutant("x86-traced-resched", TracedPathDropsReschedule),
    {},
    /statistics-consistent: a traced run: a reschedule to idle CPU 1 never reached schedulerIpi \(within 10 ms\): the receive path drops reschedules when tracing is on/,
  ],
  [
    "sparc",
    "the call-function softint clears the single softint's bit (its own stays set)",
    sparcMutant("sparc-wrong-softint", ClearsWrongSoftint),
    {},
    /mask-send-any-mask: a direct mask send to the last CPU \[1\] from CPU 0 on 2 CPUs .*: \[1\] never took the IPI \(IPI lost\)/,
  ],
];

function failures(d: ArchDescriptor, options: RawArchOptions): ConformanceResult[] {
  return runConformance(d, { options, cpuSizes: [2, 3, 64], schedules: 8 }).filter(
    (r) => r.status === "fail",
  );
}

describe("the conformance kit fails porting mistakes in the real backends and the example ports", () => {
  it.each(MUTANTS)(
    "%s: %s",
    (_from, bug, d, options, message) => {
      const failed = failures(d, options);
      if (process.env.KIT_DEBUG)
        console.log(bug, failed.map((f) => `${f.name}: ${f.message.slice(0, 400)}`).join("\n"));
      expect(failed.length).toBeGreaterThan(0);
      expect(failed.map((f) => `${f.name}: ${f.message}`).join("\n")).toMatch(message);
    },
    120_000,
  );
});
