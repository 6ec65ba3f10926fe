import { describe, expect, it } from "@jest/globals";
import {
  descriptor as generic,
  GenericIpi,
  LINE_CALL_FUNCTION,
  LINE_RESCHEDULE,
} from "@smpcall/arch-generic";
import { instanceCachingFactory } from "tsyringe";
import {
  ArchIpiToken,
  ArchOptionError,
  ArchOptionsToken,
  ArchWarningsToken,
  InterconnectToken,
  MachineToken,
  SmpHandlersToken,
  type ArchDescriptor,
  type ArchWarnings,
  type ArchStatistics,
  type CpuCode,
  type CpuMask,
} from "@smpcall/core";
import { runConformance, type ConformanceResult } from "@smpcall/core/conformance";
import {
  MSG_CALL,
  MSG_RESCHEDULE,
  MuxedIpi,
  muxed,
  queueCaps,
  queued,
  queueOptions,
  QueueIpi,
  variant,
  ReceiveReturnsTrapsHeld,
} from "./kit-mutants";

// ------------------------------------------------------------------ send

/** Loses every fifth raise. */
class DropsOneInFive extends GenericIpi {
  private sends = 0;
  protected raiseTo(cpu: number): void {
    if (++this.sends % 5 === 0) return; // lost
    this.wires.raise(cpu, LINE_CALL_FUNCTION, this.latencyNs);
    this.ipisRaised++;
  }
  override *sendCallFunctionIpiMask(mask: CpuMask): CpuCode<void> {
    for (let c = mask.first(); c < mask.nrCpuIds; c = mask.next(c)) this.raiseTo(c);
    yield this.sendCostNs;
  }
  override *sendCallFunctionSingleIpi(cpu: number): CpuCode<void> {
    this.raiseTo(cpu);
    yield this.sendCostNs;
  }
}

/** The single path sends to the next CPU. */
class WrongCpu extends GenericIpi {
  override *sendCallFunctionSingleIpi(cpu: number): CpuCode<void> {
    yield* super.sendCallFunctionSingleIpi((cpu + 1) % this.machine.nrCpus);
  }
}

/** A second, late copy of every single IPI. */
class DeliversTwice extends GenericIpi {
  override *sendCallFunctionSingleIpi(cpu: number): CpuCode<void> {
    yield* super.sendCallFunctionSingleIpi(cpu);
    this.wires.raise(cpu, LINE_CALL_FUNCTION, this.latencyNs * 20);
    this.ipisRaised++;
  }
}

/** The mask path also interrupts the sender. */
class AlsoToSender extends GenericIpi {
  override *sendCallFunctionIpiMask(mask: CpuMask): CpuCode<void> {
    yield* super.sendCallFunctionIpiMask(mask);
    this.wires.raise(this.machine.current, LINE_CALL_FUNCTION, this.latencyNs);
    this.ipisRaised++;
  }
}

/** The mask path broadcasts to every online CPU. */
class IgnoresMask extends GenericIpi {
  override *sendCallFunctionIpiMask(): CpuCode<void> {
    const m = this.machine;
    for (let c = 0; c < m.nrCpus; c++)
      if (c !== m.current && m.cpus[c].online) {
        this.wires.raise(c, LINE_CALL_FUNCTION, this.latencyNs);
        this.ipisRaised++;
      }
    yield this.sendCostNs;
  }
}

/** Walks the mask's 32-bit words but stops one bit short of each word's top (bit 31 lost). */
class LosesBit31 extends GenericIpi {
  override *sendCallFunctionIpiMask(mask: CpuMask): CpuCode<void> {
    const words = mask.words;
    for (let w = 0; w < words.length; w++)
      for (let b = 0; b < 31; b++)
        if ((words[w] >>> b) & 1) {
          this.wires.raise(w * 32 + b, LINE_CALL_FUNCTION, this.latencyNs);
          this.ipisRaised++;
        }
    yield this.sendCostNs;
  }
}

/** A 64-bit hart-mask window whose next window starts one CPU late: CPU 64, 128, ... are skipped. */
class WindowOffByOne extends GenericIpi {
  override *sendCallFunctionIpiMask(mask: CpuMask): CpuCode<void> {
    for (let base = 0; base < mask.nrCpuIds; base += 64) {
      for (let i = base === 0 ? 0 : 1; i < 64 && base + i < mask.nrCpuIds; i++)
        if (mask.test(base + i)) {
          this.wires.raise(base + i, LINE_CALL_FUNCTION, this.latencyNs);
          this.ipisRaised++;
        }
      yield this.sendCostNs;
    }
  }
}

/** Walks the caller's mask by clearing each bit it sends to (the mask is the caller's, read-only). */
class ClearsCallersMask extends GenericIpi {
  override *sendCallFunctionIpiMask(mask: CpuMask): CpuCode<void> {
    for (let c = mask.first(); c < mask.nrCpuIds; c = mask.first()) {
      mask.clear(c);
      this.wires.raise(c, LINE_CALL_FUNCTION, this.latencyNs);
      this.ipisRaised++;
      yield this.sendCostNs;
    }
  }
}

/** Keeps the caller's mask and walks it later, from a hardware callback (a multicast engine reading it late). */
class KeepsCallersMask extends GenericIpi {
  override *sendCallFunctionIpiMask(mask: CpuMask): CpuCode<void> {
    this.wires.schedule(300, () => {
      for (let c = mask.first(); c < mask.nrCpuIds; c = mask.next(c)) {
        this.wires.raise(c, LINE_CALL_FUNCTION, this.latencyNs);
        this.ipisRaised++;
      }
    });
    yield this.sendCostNs;
  }
}

/** The last CPU of the machine is never reached by the mask path (an `< n - 1` bound). */
class MissesLastCpu extends GenericIpi {
  override *sendCallFunctionIpiMask(mask: CpuMask): CpuCode<void> {
    for (let c = mask.first(); c < mask.nrCpuIds - 1; c = mask.next(c)) {
      this.wires.raise(c, LINE_CALL_FUNCTION, this.latencyNs);
      this.ipisRaised++;
    }
    yield this.sendCostNs;
  }
  override *sendCallFunctionSingleIpi(cpu: number): CpuCode<void> {
    if (cpu < this.machine.nrCpus - 1) yield* super.sendCallFunctionSingleIpi(cpu);
    else yield this.sendCostNs;
  }
}

// ------------------------------------------------------------------ hotplug

/** Addresses CPUs by their position among the online CPUs (a table built from the online mask). */
class ByPosition extends GenericIpi {
  private physical(cpu: number): number {
    const online = this.machine.onlineMask;
    let c = online.first();
    for (let i = 0; i < cpu && c < online.nrCpuIds; i++) c = online.next(c);
    return c < online.nrCpuIds ? c : cpu;
  }
  override *sendCallFunctionIpiMask(mask: CpuMask): CpuCode<void> {
    for (let c = mask.first(); c < mask.nrCpuIds; c = mask.next(c)) yield* this.sendCallFunctionSingleIpi(c);
  }
  override *sendCallFunctionSingleIpi(cpu: number): CpuCode<void> {
    yield* super.sendCallFunctionSingleIpi(this.physical(cpu));
  }
}

/** Marks CPUs it sees offline as dead and never clears the mark when they come back. */
class ForgetsRebootedCpus extends GenericIpi {
  private readonly dead = new Set<number>();
  override *sendCallFunctionIpiMask(mask: CpuMask): CpuCode<void> {
    for (let c = mask.first(); c < mask.nrCpuIds; c = mask.next(c)) yield* this.sendCallFunctionSingleIpi(c);
  }
  override *sendCallFunctionSingleIpi(cpu: number): CpuCode<void> {
    for (const c of this.machine.cpus) if (!c.online) this.dead.add(c.id);
    if (!this.dead.has(cpu)) yield* super.sendCallFunctionSingleIpi(cpu);
    else yield this.sendCostNs;
  }
}

// ------------------------------------------------------------------ receive and acknowledgement

/** Every third interrupt is never acknowledged. */
class ForgetsAck extends GenericIpi {
  override *handleInterrupt(cpu: number, line: number): CpuCode<void> {
    const before = this.acks;
    yield* super.handleInterrupt(cpu, line);
    if (this.interruptsTaken % 3 === 0) this.acks = before;
  }
}

/** Every fourth interrupt is acknowledged twice. */
class AcksTwice extends GenericIpi {
  override *handleInterrupt(cpu: number, line: number): CpuCode<void> {
    yield* super.handleInterrupt(cpu, line);
    if (this.interruptsTaken % 4 === 0) this.acks++;
  }
}

/** Counts the acknowledgement of a call-function IPI when it is sent, not when it is taken. */
class AcksAtSend extends GenericIpi {
  override *sendCallFunctionIpiMask(mask: CpuMask): CpuCode<void> {
    for (let c = mask.first(); c < mask.nrCpuIds; c = mask.next(c)) yield* this.sendCallFunctionSingleIpi(c);
  }
  override *sendCallFunctionSingleIpi(cpu: number): CpuCode<void> {
    this.acks++;
    yield* super.sendCallFunctionSingleIpi(cpu);
  }
  override *handleInterrupt(cpu: number, line: number): CpuCode<void> {
    if (line !== LINE_CALL_FUNCTION) return yield* super.handleInterrupt(cpu, line);
    this.interruptsTaken++;
    yield* this.smp.genericSmpCallFunctionInterrupt();
  }
}

/** Acknowledges at the end of the handler by clearing the line: a raise during the handler is lost. */
class AcksLate extends GenericIpi {
  override *handleInterrupt(cpu: number, line: number): CpuCode<void> {
    yield* super.handleInterrupt(cpu, line);
    this.wires.clearPending(cpu, line);
  }
}

/** The receive path never returns. */
class LivelockingHandler extends GenericIpi {
  override *handleInterrupt(cpu: number, line: number): CpuCode<void> {
    yield* super.handleInterrupt(cpu, line);
    for (;;) yield 20;
  }
}

/** Takes the call-function interrupt without calling the core handler when another is pending. */
class SkipsHandlerWhenBusy extends GenericIpi {
  override *handleInterrupt(cpu: number, line: number): CpuCode<void> {
    this.interruptsTaken++;
    this.acks++;
    if (line === LINE_CALL_FUNCTION && this.machine.cpus[cpu].hardirqDepth > 1) return;
    if (line === LINE_CALL_FUNCTION && this.interruptsTaken % 7 === 0) return; // "spurious": dropped
    if (line === LINE_CALL_FUNCTION) yield* this.smp.genericSmpCallFunctionInterrupt();
    else if (line === LINE_RESCHEDULE) this.smp.schedulerIpi();
  }
}

// ------------------------------------------------------------------ messages

/** Reschedule interrupts are acknowledged and dropped. */
class DropsReschedules extends GenericIpi {
  override *handleInterrupt(cpu: number, line: number): CpuCode<void> {
    if (line === LINE_RESCHEDULE) {
      this.interruptsTaken++;
      this.acks++;
      return;
    }
    yield* super.handleInterrupt(cpu, line);
  }
}

/** Reschedules to CPU 0 are dropped (a falsy-id test: `if (!cpu) return`). */
class DropsReschedulesToCpu0 extends GenericIpi {
  override *sendRescheduleIpi(cpu: number): CpuCode<void> {
    if (!cpu) {
      yield this.sendCostNs;
      return;
    }
    yield* super.sendRescheduleIpi(cpu);
  }
}

/** The receive path turns interrupts back on before running the core handler (callbacks with interrupts on). */
class HandlerEnablesIrqs extends GenericIpi {
  override *handleInterrupt(cpu: number, line: number): CpuCode<void> {
    this.machine.localIrqEnable();
    yield* super.handleInterrupt(cpu, line);
    this.machine.localIrqDisable();
  }
}

/** The single send turns interrupts on (and leaves them on) in a caller that had them off. */
class SendEnablesIrqs extends GenericIpi {
  override *sendCallFunctionSingleIpi(cpu: number): CpuCode<void> {
    this.machine.localIrqEnable();
    yield* super.sendCallFunctionSingleIpi(cpu);
  }
}

/** Muxed: handles only the lowest message set (a reschedule hides a call that came with it). */
class MuxedLowestOnly extends MuxedIpi {
  protected override handled(word: number): number {
    return word & -word;
  }
}

/** Muxed: handles only the highest message set (a call hides a reschedule that came with it). */
class MuxedHighestOnly extends MuxedIpi {
  protected override handled(word: number): number {
    return word === 0 ? 0 : 1 << (31 - Math.clz32(word));
  }
}

/** Muxed: the single send sets its bit in two steps (read the word, write it back a send cost later): a reschedule posted in between is lost. */
class MuxedTwoStepSingle extends MuxedIpi {
  override *sendCallFunctionSingleIpi(cpu: number): CpuCode<void> {
    const word = this.words[cpu];
    yield this.sendCostNs;
    this.words[cpu] = word | (1 << MSG_CALL);
    this.wires.raise(cpu, LINE_CALL_FUNCTION, this.latencyNs);
    this.ipisRaised++;
  }
}

/** Muxed: the reschedule sets its bit in two steps: a call posted in between is lost. */
class MuxedTwoStepReschedule extends MuxedIpi {
  override *sendRescheduleIpi(cpu: number): CpuCode<void> {
    const word = this.words[cpu];
    yield this.sendCostNs;
    this.words[cpu] = word | (1 << MSG_RESCHEDULE);
    this.wires.raise(cpu, LINE_CALL_FUNCTION, this.latencyNs);
    this.rescheduleIpis++;
  }
}

/** Muxed: the receive path reads the word and clears it 200 ns later: messages posted in between are lost. */
class MuxedLateClear extends MuxedIpi {
  override *handleInterrupt(cpu: number): CpuCode<void> {
    this.interruptsTaken++;
    this.acks++;
    const word = this.words[cpu];
    yield 200;
    this.words[cpu] = 0;
    if (word & (1 << MSG_RESCHEDULE)) this.smp.schedulerIpi();
    if (word & (1 << MSG_CALL)) yield* this.smp.genericSmpCallFunctionInterrupt();
  }
}

/** Muxed: any message word is also taken as a reschedule (every call-function IPI calls schedulerIpi). */
class MuxedCallImpliesReschedule extends MuxedIpi {
  protected override handled(word: number): number {
    return word === 0 ? 0 : word | (1 << MSG_RESCHEDULE);
  }
}

/** A reschedule also goes to the next CPU (an off-by-one in a two-CPU loop). */
class RescheduleAlsoToNext extends GenericIpi {
  override *sendRescheduleIpi(cpu: number): CpuCode<void> {
    yield* super.sendRescheduleIpi(cpu);
    const next = (cpu + 1) % this.machine.nrCpus;
    if (next === this.machine.current) return;
    this.wires.raise(next, LINE_RESCHEDULE, this.latencyNs);
    this.rescheduleIpis++;
  }
}

// ------------------------------------------------------------------ statistics

/** The hardware-signal statistic counts mask sends and reschedules, not target CPUs signalled. */
class SignalsPerSend extends GenericIpi {
  private maskSends = 0;
  override *sendCallFunctionIpiMask(mask: CpuMask): CpuCode<void> {
    this.maskSends++;
    yield* super.sendCallFunctionIpiMask(mask);
  }
  override statistics(): ArchStatistics {
    return { ...super.statistics(), raises: this.maskSends + this.rescheduleIpis };
  }
}

/** Reports twice the raises it made. */
class WrongStatistics extends GenericIpi {
  override statistics(): ArchStatistics {
    const s = super.statistics();
    return { ...s, raises: s.raises * 2 };
  }
}

/** A read-to-clear counter: each read returns the interrupts since the previous read. */
class ReadToClear extends GenericIpi {
  private lastRead = 0;
  override statistics(): ArchStatistics {
    const s = super.statistics();
    const since = s.interruptsTaken - this.lastRead;
    this.lastRead = s.interruptsTaken;
    return { ...s, interruptsTaken: since };
  }
}

/** A read-to-clear counter in one live object it hands out on every read (so earlier reads change too). */
class LiveReadToClear extends GenericIpi {
  private readonly live: ArchStatistics = {};
  private lastRead = 0;
  override statistics(): ArchStatistics {
    const s = super.statistics();
    const since = s.interruptsTaken - this.lastRead;
    this.lastRead = s.interruptsTaken;
    return Object.assign(this.live, s, { interruptsTaken: since });
  }
}

/** An average that is NaN before the first interrupt. */
class NaNStatistic extends GenericIpi {
  override statistics(): ArchStatistics {
    const s = super.statistics();
    return { ...s, acksPerInterrupt: s.acks / s.interruptsTaken };
  }
}

// ------------------------------------------------------------------ determinism

/** Jitters its latency with Math.random instead of the machine's chooser. */
class UsesMathRandom extends GenericIpi {
  override *sendCallFunctionSingleIpi(cpu: number): CpuCode<void> {
    this.wires.raise(cpu, LINE_CALL_FUNCTION, this.latencyNs + Math.floor(Math.random() * 500));
    this.ipisRaised++;
    yield this.sendCostNs;
  }
}

/** Keeps a counter shared by every machine (module state): the second run differs from the first. */
let sharedSends = 0;
class SharedAcrossMachines extends GenericIpi {
  override *sendCallFunctionSingleIpi(cpu: number): CpuCode<void> {
    this.wires.raise(cpu, LINE_CALL_FUNCTION, this.latencyNs + (sharedSends++ % 7) * 100);
    this.ipisRaised++;
    yield this.sendCostNs;
  }
}

/** Raises through the instance built last (a module-level singleton): with two systems alive, the wrong machine's lines. */
let lastWires: { raise(target: number, line: number, delayNs: number): number } | null = null;
class SingletonWires extends GenericIpi {
  constructor(...args: ConstructorParameters<typeof GenericIpi>) {
    super(...args);
    lastWires = args[0];
  }
  override *sendCallFunctionSingleIpi(cpu: number): CpuCode<void> {
    (lastWires ?? this.wires).raise(cpu, LINE_CALL_FUNCTION, this.latencyNs);
    this.ipisRaised++;
    yield this.sendCostNs;
  }
  override *sendCallFunctionIpiMask(mask: CpuMask): CpuCode<void> {
    for (let c = mask.first(); c < mask.nrCpuIds; c = mask.next(c)) yield* this.sendCallFunctionSingleIpi(c);
  }
}

// ------------------------------------------------------------------ timing

/** Raises with no delay although the descriptor declares latencyNs. */
class ZeroLatency extends GenericIpi {
  override *sendCallFunctionSingleIpi(cpu: number): CpuCode<void> {
    this.wires.raise(cpu, LINE_CALL_FUNCTION, 0);
    this.ipisRaised++;
    yield this.sendCostNs;
  }
}

/** Delivers in no time (latency option 0 by default) and declares nothing about it. */
const undeclaredZero: ArchDescriptor = (() => {
  const d = variant(
    "undeclared-zero",
    GenericIpi,
    { minDeliveryLatencyNs: undefined },
    {
      ...generic.options,
      latencyNs: {
        ...(generic.options.latencyNs as { type: "integer"; min: number; max: number; description: string }),
        default: 0,
      },
    },
  );
  return d;
})();

/** `base` with the generic options' defaults changed: a backend as a porter might configure it. */
function withDefaults(base: ArchDescriptor, name: string, defaults: Record<string, number>): ArchDescriptor {
  const options = Object.fromEntries(
    Object.entries(base.options).map(([k, spec]) => [
      k,
      k in defaults ? { ...spec, default: defaults[k] } : spec,
    ]),
  ) as ArchDescriptor["options"];
  return { ...base, name, options };
}

/** Generic at its slowest legal options: 1 ms delivery, 1 ms per raise. Slow, not wrong. */
const slowGeneric = withDefaults(generic, "slow-generic", { latencyNs: 1_000_000, sendCostNs: 1_000_000 });

/** Raises the call-function line at the target ahead of time, on every interrupt it takes. */
class SpuriousAhead extends GenericIpi {
  override *handleInterrupt(cpu: number, line: number): CpuCode<void> {
    yield* super.handleInterrupt(cpu, line);
    if (line === LINE_CALL_FUNCTION && this.interruptsTaken % 5 === 0) {
      const other = (cpu + 1) % this.machine.nrCpus;
      this.wires.raise(other, LINE_CALL_FUNCTION, this.latencyNs); // nobody sent this
      this.ipisRaised++;
    }
  }
}

// ------------------------------------------------------------------ faults

/** A backend with transient NACKs that gives up instead of retrying. */
class NeverRetries extends QueueIpi {
  protected override *deliver(cpu: number, line: number): CpuCode<void> {
    if (this.busy(cpu)) {
      yield this.sendCostNs; // NACKed: should back off and retry
      return;
    }
    yield* super.deliver(cpu, line);
  }
}

/** Retries a busy target forever. */
class BusyForever extends QueueIpi {
  protected override report(cpu: number, what: string): void {
    if (what.includes("busy")) throw new Error("unreachable");
    super.report(cpu, what);
  }
  protected override *deliver(cpu: number, line: number): CpuCode<void> {
    while (!this.errorCpus.test(cpu) && this.busy(cpu)) {
      this.retries++;
      yield 500;
    }
    yield* super.deliver(cpu, line);
  }
}

/** Gives up on a busy target silently. */
class BusyGivesUpSilently extends QueueIpi {
  protected override report(cpu: number, what: string): void {
    if (what.includes("busy")) return;
    super.report(cpu, what);
  }
}

/** Retries a busy target twice as often as it declares. */
class BusyPastBound extends QueueIpi {
  protected override *deliver(cpu: number, line: number): CpuCode<void> {
    let tries = 0;
    while (!this.errorCpus.test(cpu) && this.busy(cpu) && tries < 2 * this.retryLimit) {
      tries++;
      this.retries++;
      yield 500;
    }
    yield* super.deliver(cpu, line);
  }
}

/** Drops IPIs to CPUs in error without reporting them. */
class SilentOnError extends QueueIpi {
  protected override report(cpu: number, what: string): void {
    if (what.includes("in error")) return;
    super.report(cpu, what);
  }
}

/** A 12-bit send sequence number: the send that wraps it (every 4096th) is lost. */
class SequenceWrapLoses extends GenericIpi {
  private seq = 0;
  override *sendCallFunctionSingleIpi(cpu: number): CpuCode<void> {
    this.seq = (this.seq + 1) & 0xfff;
    if (this.seq !== 0) this.wires.raise(cpu, LINE_CALL_FUNCTION, this.latencyNs);
    this.ipisRaised++;
    yield this.sendCostNs;
  }
}

/** A mask of one CPU goes out on the reschedule line (a path the kernel itself never takes). */
class OneCpuMaskAsReschedule extends GenericIpi {
  override *sendCallFunctionIpiMask(mask: CpuMask): CpuCode<void> {
    if (mask.weight() !== 1) return yield* super.sendCallFunctionIpiMask(mask);
    this.wires.raise(mask.first(), LINE_RESCHEDULE, this.latencyNs);
    this.ipisRaised++;
    yield this.sendCostNs;
  }
}

// ------------------------------------------------------------------ sixth round (2026-12-02)

/** Per-CPU counters, summed over the online CPUs only: the totals go down when a CPU goes offline. */
class StatisticsOverOnlineCpus extends GenericIpi {
  private readonly taken: Uint32Array;
  private readonly acked: Uint32Array;
  constructor(...args: ConstructorParameters<typeof GenericIpi>) {
    super(...args);
    this.taken = new Uint32Array(this.machine.nrCpus);
    this.acked = new Uint32Array(this.machine.nrCpus);
  }
  override *handleInterrupt(cpu: number, line: number): CpuCode<void> {
    this.taken[cpu]++;
    this.acked[cpu]++;
    if (line === LINE_CALL_FUNCTION) yield* this.smp.genericSmpCallFunctionInterrupt();
    else if (line === LINE_RESCHEDULE) this.smp.schedulerIpi();
  }
  override statistics(): ArchStatistics {
    let taken = 0;
    let acked = 0;
    const online = this.machine.onlineMask;
    for (let c = online.first(); c < online.nrCpuIds; c = online.next(c)) {
      taken += this.taken[c];
      acked += this.acked[c];
    }
    return { ...super.statistics(), interruptsTaken: taken, acks: acked };
  }
}

/** Counts every delivery attempt as a raise, the NACKed ones too. */
class CountsNackedAttemptsAsRaises extends QueueIpi {
  protected override busy(cpu: number): boolean {
    const busy = super.busy(cpu);
    if (busy) this.ipisRaised++;
    return busy;
  }
}

/** A statistics key added on first use: `cpuBoots` appears once a CPU has come back. */
class KeyAddedOnFirstBoot extends GenericIpi {
  private boots = 0;
  constructor(...args: ConstructorParameters<typeof GenericIpi>) {
    super(...args);
    args[0].onCpuBoot(() => void this.boots++);
  }
  override statistics(): ArchStatistics {
    const s = super.statistics();
    return this.boots === 0 ? s : { ...s, cpuBoots: this.boots };
  }
}

/** Message words cached per machine size in module state: two machines of one size share them. */
const wordsBySize = new Map<number, Uint8Array>();
class WordsSharedBySize extends MuxedIpi {
  constructor(...args: ConstructorParameters<typeof GenericIpi>) {
    super(...args);
    let words = wordsBySize.get(this.machine.nrCpus);
    if (words === undefined)
      wordsBySize.set(this.machine.nrCpus, (words = new Uint8Array(this.machine.nrCpus)));
    (this as unknown as { words: Uint8Array }).words = words;
  }
}

/** The boot hook resets every CPU's message word, not only the booting CPU's. */
class BootResetsEveryWord extends MuxedIpi {
  constructor(...args: ConstructorParameters<typeof GenericIpi>) {
    super(...args);
    args[0].onCpuBoot(() => this.words.fill(0));
  }
}

/** Drops IPIs to the CPU after a CPU in error, without a report (an off-by-one in the error test). */
class ErrorMaskOffByOne extends QueueIpi {
  protected override *deliver(cpu: number, line: number): CpuCode<void> {
    if (cpu > 0 && this.errorCpus.test(cpu - 1)) {
      yield this.sendCostNs;
      return;
    }
    yield* super.deliver(cpu, line);
  }
}

/** A NACK from one target restarts the whole mask: targets already reached are sent it again. */
class RetriesWholeMask extends QueueIpi {
  override *sendCallFunctionIpiMask(mask: CpuMask): CpuCode<void> {
    const targets = mask.toArray();
    for (const c of targets) if (this.errorCpus.test(c)) yield* this.deliver(c, LINE_CALL_FUNCTION);
    for (let attempt = 0; attempt < 50; attempt++) {
      let nacked = false;
      for (const c of targets) {
        if (this.errorCpus.test(c)) continue;
        if (this.busy(c)) {
          nacked = true;
          this.retries++;
          continue;
        }
        this.queued[c]++;
        this.wires.raise(c, LINE_CALL_FUNCTION, this.latencyNs);
        this.ipisRaised++;
        yield this.sendCostNs;
      }
      if (!nacked) return;
      yield 500;
    }
  }
}

/** Declares offlineDelivery "pending" but its boot hook drops what was raised while the CPU was offline. */
class PendingDeclaredButDropped extends GenericIpi {
  constructor(...args: ConstructorParameters<typeof GenericIpi>) {
    super(...args);
    const wires = args[0];
    wires.onCpuBoot((cpu) => {
      wires.clearPending(cpu, LINE_CALL_FUNCTION);
      wires.clearPending(cpu, LINE_RESCHEDULE);
    });
  }
}

/** The call-function line is a trap line: taken, and callbacks run, inside local_irq_disable sections. */
class CallLineIsATrap extends GenericIpi {
  constructor(...args: ConstructorParameters<typeof GenericIpi>) {
    super(...args);
    args[0].setTrapLines(1 << LINE_CALL_FUNCTION);
  }
}

/** The reschedule handler also runs the call-function handler. */
class RescheduleAlsoFlushes extends GenericIpi {
  override *handleInterrupt(cpu: number, line: number): CpuCode<void> {
    yield* super.handleInterrupt(cpu, line);
    if (line === LINE_RESCHEDULE) yield* this.smp.genericSmpCallFunctionInterrupt();
  }
}

/** Muxed: every reschedule message is also taken as a call-function message. */
class MuxedReschedImpliesCall extends MuxedIpi {
  protected override handled(word: number): number {
    return word & (1 << MSG_RESCHEDULE) ? word | (1 << MSG_CALL) : word;
  }
}

/** An all-but-self shorthand whenever the mask is every online CPU but the sender, raised at every CPU but the sender: offline ones too. */
class ShorthandReachesOfflineCpus extends GenericIpi {
  override *sendCallFunctionIpiMask(mask: CpuMask): CpuCode<void> {
    const m = this.machine;
    if (mask.weight() > 1 && mask.weight() === m.onlineMask.weight() - 1) {
      for (let c = 0; c < m.nrCpus; c++)
        if (c !== m.current) {
          this.wires.raise(c, LINE_CALL_FUNCTION, this.latencyNs);
          this.ipisRaised++;
        }
      yield this.sendCostNs;
      return;
    }
    yield* super.sendCallFunctionIpiMask(mask);
  }
}

/** Forgets every third acknowledgement, and declares the acknowledgements as the interrupts that need one. */
class ForgetsAckDeclaredAsNeeded extends GenericIpi {
  override *handleInterrupt(cpu: number, line: number): CpuCode<void> {
    const before = this.acks;
    yield* super.handleInterrupt(cpu, line);
    if (this.interruptsTaken % 3 === 0) this.acks = before;
  }
}

/** The single send busy-waits 500 ns with interrupts on (restored before it returns). */
class SendOpensInterrupts extends GenericIpi {
  override *sendCallFunctionSingleIpi(cpu: number): CpuCode<void> {
    const m = this.machine;
    const off = m.cpus[m.current].irqsDisabled;
    if (off) m.localIrqEnable();
    yield 500;
    if (off) m.localIrqDisable();
    yield* super.sendCallFunctionSingleIpi(cpu);
  }
}

/** Adds 20 ns to a send offset (sentAfterNs) at every single send and never resets it: delivery grows with the traffic. */
class SendOffsetNeverReset extends GenericIpi {
  private offsetNs = 0;
  override *sendCallFunctionSingleIpi(cpu: number): CpuCode<void> {
    this.offsetNs += 20;
    this.wires.raise(cpu, LINE_CALL_FUNCTION, this.latencyNs, this.offsetNs);
    this.ipisRaised++;
    yield this.sendCostNs;
  }
}

/** Both lines named as the call-function line. */
class OneNameForBothLines extends GenericIpi {
  override lineName(): string {
    return "Function call interrupts";
  }
}

/** The boot hook resets the message word of the CPU before the booting one (an off-by-one). */
class BootResetsPreviousWord extends MuxedIpi {
  constructor(...args: ConstructorParameters<typeof GenericIpi>) {
    super(...args);
    args[0].onCpuBoot((cpu) => {
      if (cpu > 0) this.words[cpu - 1] = 0;
    });
  }
}

/** Keeps the latency its constructor read in module state: every machine runs with the one built last. */
let latencyOfLastBuilt = 0;
class LatencyInModuleState extends GenericIpi {
  constructor(...args: ConstructorParameters<typeof GenericIpi>) {
    super(...args);
    latencyOfLastBuilt = this.latencyNs;
  }
  override *sendCallFunctionSingleIpi(cpu: number): CpuCode<void> {
    this.wires.raise(cpu, LINE_CALL_FUNCTION, latencyOfLastBuilt);
    this.ipisRaised++;
    yield this.sendCostNs;
  }
}

/** Single sends and reschedules to CPUs 256 up to the one before the last wrap at 8 bits (an xAPIC-style byte-wide destination). */
class SingleWrapsAt256 extends GenericIpi {
  private destination(cpu: number): number {
    return cpu >= 256 && cpu < this.machine.nrCpus - 1 ? cpu & 255 : cpu;
  }
  override *sendCallFunctionSingleIpi(cpu: number): CpuCode<void> {
    yield* super.sendCallFunctionSingleIpi(this.destination(cpu));
  }
  override *sendRescheduleIpi(cpu: number): CpuCode<void> {
    yield* super.sendRescheduleIpi(this.destination(cpu));
  }
}

/** Every bug with the kind of code it is in, the backend, and the message the kit must give. */
// ------------------------------------------------------------------ seventh round (2026-12-02, kit2)

/** Counts each CPU's boots and treats one booted a second time as broken: sends to it are dropped. */
class GivesUpOnRebootedCpu extends GenericIpi {
  private readonly boots = new Map<number, number>();
  constructor(...args: ConstructorParameters<typeof GenericIpi>) {
    super(...args);
    this.wires.onCpuBoot((c) => this.boots.set(c, (this.boots.get(c) ?? 0) + 1));
  }
  private gone(cpu: number): boolean {
    return (this.boots.get(cpu) ?? 0) >= 2;
  }
  override *sendCallFunctionIpiMask(mask: CpuMask): CpuCode<void> {
    for (let c = mask.first(); c < mask.nrCpuIds; c = mask.next(c)) yield* this.sendCallFunctionSingleIpi(c);
  }
  override *sendCallFunctionSingleIpi(cpu: number): CpuCode<void> {
    if (!this.gone(cpu)) yield* super.sendCallFunctionSingleIpi(cpu);
    else yield this.sendCostNs;
  }
  override *sendRescheduleIpi(cpu: number): CpuCode<void> {
    if (!this.gone(cpu)) yield* super.sendRescheduleIpi(cpu);
    else yield this.sendCostNs;
  }
}

/** statistics() throws once a CPU has been brought up (a per-CPU table not resized on hotplug). */
class StatisticsThrowAfterBoot extends GenericIpi {
  private booted = false;
  constructor(...args: ConstructorParameters<typeof GenericIpi>) {
    super(...args);
    this.wires.onCpuBoot(() => (this.booted = true));
  }
  override statistics(): ArchStatistics {
    if (this.booted) throw new Error("stale per-CPU table");
    return super.statistics();
  }
}

// ------------------------------------------------------------------ eighth round (2026-12-02, kit3)

/** Jitters reschedules only with Math.random (the compared runs of same-seed-same-trace sent none). */
class RandomOnReschedule extends GenericIpi {
  override *sendRescheduleIpi(cpu: number): CpuCode<void> {
    this.wires.raise(cpu, LINE_RESCHEDULE, this.latencyNs + Math.floor(Math.random() * 50));
    this.rescheduleIpis++;
    yield this.sendCostNs;
  }
}

/** Draws a per-CPU latency offset with Math.random when the CPU boots (a boot hook). */
class RandomOnBoot extends GenericIpi {
  private readonly extra: Uint16Array;
  constructor(...args: ConstructorParameters<typeof GenericIpi>) {
    super(...args);
    this.extra = new Uint16Array(this.machine.nrCpus);
    this.wires.onCpuBoot((cpu) => (this.extra[cpu] = Math.floor(Math.random() * 50)));
  }
  override *sendCallFunctionSingleIpi(cpu: number): CpuCode<void> {
    this.wires.raise(cpu, LINE_CALL_FUNCTION, this.latencyNs + this.extra[cpu]);
    this.ipisRaised++;
    yield this.sendCostNs;
  }
}

/** Jitters single sends with Math.random on machines of more than 16 CPUs only. */
class RandomOnBigMachines extends GenericIpi {
  override *sendCallFunctionSingleIpi(cpu: number): CpuCode<void> {
    const jitter = this.machine.nrCpus > 16 ? Math.floor(Math.random() * 50) : 0;
    this.wires.raise(cpu, LINE_CALL_FUNCTION, this.latencyNs + jitter);
    this.ipisRaised++;
    yield this.sendCostNs;
  }
}

/** Counts boots in module state, and single sends take longer by that count modulo 3 (x 10 ns). */
let bootsInModule = 0;
class BootCountInModuleState extends GenericIpi {
  constructor(...args: ConstructorParameters<typeof GenericIpi>) {
    super(...args);
    this.wires.onCpuBoot(() => bootsInModule++);
  }
  override *sendCallFunctionSingleIpi(cpu: number): CpuCode<void> {
    this.wires.raise(cpu, LINE_CALL_FUNCTION, this.latencyNs + (bootsInModule % 3) * 10);
    this.ipisRaised++;
    yield this.sendCostNs;
  }
}

/** Declares offlineDelivery dropped; its boot hook clears the pending lines at a CPU's first boot only. */
class DropsOfflineOnFirstBootOnly extends GenericIpi {
  private readonly booted = new Set<number>();
  constructor(...args: ConstructorParameters<typeof GenericIpi>) {
    super(...args);
    this.wires.onCpuBoot((cpu) => {
      if (this.booted.has(cpu)) return;
      this.booted.add(cpu);
      this.wires.clearPending(cpu, LINE_CALL_FUNCTION);
      this.wires.clearPending(cpu, LINE_RESCHEDULE);
    });
  }
}

/** Declares offlineDelivery pending; its boot hook clears the pending lines from a CPU's second boot on. */
class DropsOfflineFromSecondBoot extends GenericIpi {
  private readonly booted = new Set<number>();
  constructor(...args: ConstructorParameters<typeof GenericIpi>) {
    super(...args);
    this.wires.onCpuBoot((cpu) => {
      if (!this.booted.has(cpu)) {
        this.booted.add(cpu);
        return;
      }
      this.wires.clearPending(cpu, LINE_CALL_FUNCTION);
      this.wires.clearPending(cpu, LINE_RESCHEDULE);
    });
  }
}

/** The two lines' names swapped: reschedules traced as function calls and the other way round. */
class SwappedLineNames extends GenericIpi {
  override lineName(line: number): string {
    const other =
      line === LINE_CALL_FUNCTION ? LINE_RESCHEDULE : line === LINE_RESCHEDULE ? LINE_CALL_FUNCTION : line;
    return super.lineName(other);
  }
}

/**
 * A RISC-V-style 64-bit hart window based at the first target, moved on only when a target is
 * more than 64 above the base (it should be 64 or more): target base+64 lands on bit 64, which
 * the 64-bit shift wraps to bit 0, the base itself.
 */
class HartWindowOffByOne extends GenericIpi {
  override *sendCallFunctionIpiMask(mask: CpuMask): CpuCode<void> {
    let base = -1;
    let bits = new Set<number>();
    const flush = (): void => {
      for (const b of bits) {
        this.wires.raise(base + b, LINE_CALL_FUNCTION, this.latencyNs);
        this.ipisRaised++;
      }
      bits = new Set();
    };
    for (let c = mask.first(); c < mask.nrCpuIds; c = mask.next(c)) {
      if (base >= 0 && c - base > 64) flush();
      if (bits.size === 0) base = c;
      bits.add((c - base) % 64);
    }
    flush();
    yield this.sendCostNs;
  }
}

/** Sends a mask in batches of 256 targets; the target that found a batch full is lost when it is flushed. */
class Batch256LosesOverflow extends GenericIpi {
  override *sendCallFunctionIpiMask(mask: CpuMask): CpuCode<void> {
    let batch: number[] = [];
    const flush = (): void => {
      for (const t of batch) this.wires.raise(t, LINE_CALL_FUNCTION, this.latencyNs);
      this.ipisRaised += batch.length;
      batch = [];
    };
    for (let c = mask.first(); c < mask.nrCpuIds; c = mask.next(c)) {
      if (batch.length === 256) {
        flush(); // c is dropped
        yield this.sendCostNs;
      } else batch.push(c);
    }
    flush();
    yield this.sendCostNs;
  }
}

/** Delivers to CPUs 64 and up in half the latency it declares as its minimum (a "near node" table gone wrong). */
class FasterFarCpus extends GenericIpi {
  private lat(cpu: number): number {
    return cpu >= 64 ? this.latencyNs >> 1 : this.latencyNs;
  }
  override *sendCallFunctionIpiMask(mask: CpuMask): CpuCode<void> {
    for (let c = mask.first(); c < mask.nrCpuIds; c = mask.next(c)) {
      this.wires.raise(c, LINE_CALL_FUNCTION, this.lat(c));
      this.ipisRaised++;
      yield this.sendCostNs;
    }
  }
  override *sendCallFunctionSingleIpi(cpu: number): CpuCode<void> {
    this.wires.raise(cpu, LINE_CALL_FUNCTION, this.lat(cpu));
    this.ipisRaised++;
    yield this.sendCostNs;
  }
  override *sendRescheduleIpi(cpu: number): CpuCode<void> {
    this.wires.raise(cpu, LINE_RESCHEDULE, this.lat(cpu));
    this.rescheduleIpis++;
    yield this.sendCostNs;
  }
}

/** Declares offlineDelivery pending; its boot hook clears the reschedule line (the call-function line is kept). */
class BootClearsRescheduleLine extends GenericIpi {
  constructor(...args: ConstructorParameters<typeof GenericIpi>) {
    super(...args);
    this.wires.onCpuBoot((cpu) => this.wires.clearPending(cpu, LINE_RESCHEDULE));
  }
}

/**
 * WARNs on every reschedule it sends, online target or not (x86's offline-CPU WARN without its
 * test): the kit allows a WARN from a raw reschedule of an offline CPU, not from the others.
 */
class WarnsOnEveryReschedule extends GenericIpi {
  constructor(
    private readonly archWarnings: ArchWarnings,
    ...args: ConstructorParameters<typeof GenericIpi>
  ) {
    super(...args);
  }
  override *sendRescheduleIpi(cpu: number): CpuCode<void> {
    this.archWarnings.archWarn({
      site: "mutant:reschedule",
      message: `reschedule IPI to CPU ${cpu}`,
      file: "arch/mutant/smp.c",
      line: 1,
      function: "smp_send_reschedule",
    });
    yield* super.sendRescheduleIpi(cpu);
  }
}

const warnsOnReschedule: ArchDescriptor = {
  ...variant("warns-on-reschedule", GenericIpi),
  register(container) {
    container.register(ArchIpiToken, {
      useFactory: instanceCachingFactory(
        (c) =>
          new WarnsOnEveryReschedule(
            c.resolve(ArchWarningsToken),
            c.resolve(InterconnectToken),
            c.resolve(SmpHandlersToken),
            c.resolve(MachineToken),
            c.resolve(ArchOptionsToken),
          ),
      ),
    });
  },
};

/** Counts a mask send's raises in a byte before adding them up: wrong from 256 targets on. */
class MaskRaisesCountedInAByte extends GenericIpi {
  private readonly count = new Uint8Array(1);
  override *sendCallFunctionIpiMask(mask: CpuMask): CpuCode<void> {
    this.count[0] = 0;
    for (let c = mask.first(); c < mask.nrCpuIds; c = mask.next(c)) {
      this.wires.raise(c, LINE_CALL_FUNCTION, this.latencyNs);
      this.count[0]++;
    }
    this.ipisRaised += this.count[0];
    yield this.sendCostNs;
  }
}

/** Acknowledgements kept per CPU in 8-bit counters, summed by statistics(): wrong from a CPU's 256th interrupt on. */
class AcksPerCpuInBytes extends GenericIpi {
  private readonly perCpu: Uint8Array;
  constructor(...args: ConstructorParameters<typeof GenericIpi>) {
    super(...args);
    this.perCpu = new Uint8Array(this.machine.nrCpus);
  }
  override *handleInterrupt(cpu: number, line: number): CpuCode<void> {
    yield* super.handleInterrupt(cpu, line);
    this.perCpu[cpu]++;
  }
  override statistics(): ArchStatistics {
    return { ...super.statistics(), acks: this.perCpu.reduce((a, b) => a + b, 0) };
  }
}

/** Raises kept per target CPU in 8-bit counters, summed by statistics(): wrong from a CPU's 256th raise on. */
class RaisesPerTargetInBytes extends GenericIpi {
  private readonly perCpu: Uint8Array;
  constructor(...args: ConstructorParameters<typeof GenericIpi>) {
    super(...args);
    this.perCpu = new Uint8Array(this.machine.nrCpus);
  }
  override *sendCallFunctionIpiMask(mask: CpuMask): CpuCode<void> {
    for (let c = mask.first(); c < mask.nrCpuIds; c = mask.next(c)) this.perCpu[c]++;
    yield* super.sendCallFunctionIpiMask(mask);
  }
  override *sendCallFunctionSingleIpi(cpu: number): CpuCode<void> {
    this.perCpu[cpu]++;
    yield* super.sendCallFunctionSingleIpi(cpu);
  }
  override *sendRescheduleIpi(cpu: number): CpuCode<void> {
    this.perCpu[cpu]++;
    yield* super.sendRescheduleIpi(cpu);
  }
  override statistics(): ArchStatistics {
    return { ...super.statistics(), raises: this.perCpu.reduce((a, b) => a + b, 0) };
  }
}

const MUTANTS: [kind: string, bug: string, d: ArchDescriptor, message: RegExp][] = [
  ["send", "drops one IPI in five", variant("drops", DropsOneInFive), /never took the IPI \(IPI lost\)/],
  [
    "send",
    "sends a single IPI to the next CPU",
    variant("wrong-cpu", WrongCpu),
    /IPIs went to the wrong CPU: \[7\] never took one, \[0\] took one without being targets/,
  ],
  ["send", "delivers a single IPI twice", variant("twice", DeliversTwice), /delivered twice/],
  [
    "send",
    "loses the send that wraps a 12-bit sequence number (one in 4096)",
    variant("seq-wrap", SequenceWrapLoses),
    /sustained-traffic-never-loses: 8 CPUs x 3000 calls: expected the run to complete with no problems/,
  ],
  [
    "send",
    "sends a one-CPU mask on the reschedule line",
    variant("one-cpu-mask", OneCpuMaskAsReschedule),
    /mask-send-any-mask: direct mask sends on \d+ CPUs: the receive path called schedulerIpi on CPU \d+ 1 time\(s\) .*but only 0 reschedule IPI\(s\) had been sent to it: a spurious reschedule/,
  ],
  [
    "send",
    "also interrupts the sender",
    variant("to-sender", AlsoToSender),
    /the sender, CPU 1, took its own IPI \(delivered to the sender\)/,
  ],
  [
    "send",
    "ignores the mask and broadcasts",
    variant("ignores-mask", IgnoresMask),
    /are not targets but took the IPI \(the mask was not respected\)/,
  ],
  [
    "send",
    "loses bit 31 of every mask word",
    variant("bit31", LosesBit31),
    /\[31(, 63)?\] never took the IPI \(IPI lost\)/,
  ],
  [
    "send",
    "starts each 64-CPU window one CPU late",
    variant("window", WindowOffByOne),
    /\[64\] never took the IPI \(IPI lost\)/,
  ],
  [
    "send",
    "never reaches the last CPU of the machine",
    variant("last-cpu", MissesLastCpu),
    /\[(32|64|128|8191)\] never took the IPI \(IPI lost\)/,
  ],
  [
    "send",
    "clears the caller's mask as it walks it",
    variant("clears-mask", ClearsCallersMask),
    /mask-ipi-exact: mask "2 CPUs" from CPU 1 on 3 CPUs: sendCallFunctionIpiMask on CPU 1 changed the caller's mask from 0,2 to \(empty\): the mask belongs to the caller/,
  ],
  [
    "send",
    "keeps the caller's mask and reads it after the send returned",
    variant("keeps-mask", KeepsCallersMask),
    /mask-send-any-mask: a direct mask send to the first CPU \[1\] from CPU 0 on 2 CPUs \(the kit empties the mask once the send returns, as the kernel reuses its own: a backend must not keep it\): \[1\] never took the IPI/,
  ],
  [
    "hotplug",
    "addresses CPUs by position among the online ones",
    variant("by-position", ByPosition),
    /went offline.*IPIs went to the wrong CPU/,
  ],
  [
    "hotplug",
    "forgets CPUs that went offline and came back",
    variant("forgets-rebooted", ForgetsRebootedCpus),
    /came back.*never took the IPI \(IPI lost\)/,
  ],
  [
    "acknowledgement",
    "forgets every third acknowledgement",
    variant("no-ack", ForgetsAck),
    /an interrupt was not acknowledged/,
  ],
  [
    "acknowledgement",
    "acknowledges every fourth interrupt twice",
    variant("ack-twice", AcksTwice),
    /an acknowledgement without an interrupt/,
  ],
  [
    "acknowledgement",
    "counts a call-function acknowledgement per send, not per interrupt taken",
    variant("ack-at-send", AcksAtSend),
    /receive-acknowledges-once: calls, raw IPIs and reschedules from 4 CPUs to CPU 3 while it has interrupts off: acknowledgements \(acks = \d+\) must equal the interrupts that need one \(interrupts taken = \d+\): an acknowledgement without an interrupt/,
  ],
  [
    "receive",
    "acknowledges late (clears the line after handling)",
    variant("ack-late", AcksLate),
    /raise-during-own-handler: .*the raise that arrived while CPU 3 was inside its handler for that line was lost/,
  ],
  [
    "receive",
    "livelocks in the handler",
    variant("livelock", LivelockingHandler),
    /ran out of its event budget of 2,000,000 events .*CPU \d+ still in handleInterrupt \(line 0, Function call interrupts\)/,
  ],
  [
    "receive",
    "drops some call-function interrupts without calling the core handler",
    variant("skips-handler", SkipsHandlerWhenBusy),
    /never took the IPI \(IPI lost\)|lost-call/,
  ],
  [
    "messages",
    "drops reschedule interrupts",
    variant("no-resched", DropsReschedules),
    /CPU 3 was sent a reschedule IPI but its receive path never called schedulerIpi \(reschedule messages are dropped\)/,
  ],
  [
    "messages",
    "drops reschedules to CPU 0",
    variant("no-resched-0", DropsReschedulesToCpu0),
    /sender CPU (32|64|128|8191): a reschedule IPI to CPU\(s\) \[0\] never reached schedulerIpi/,
  ],
  [
    "receive",
    "runs the core handler with interrupts on",
    variant("handler-irqs-on", HandlerEnablesIrqs),
    /the receive path called genericSmpCallFunctionInterrupt on CPU \d+ with interrupts enabled: callbacks must run with interrupts off/,
  ],
  [
    "send",
    "turns interrupts on in a caller that had them off",
    variant("send-irqs-on", SendEnablesIrqs),
    /sendCallFunctionSingleIpi \(to CPU 3\) on CPU 0 returned with interrupts enabled; it was entered with them disabled/,
  ],
  [
    "messages",
    "muxed: a reschedule hides the call that came with it",
    variant("muxed-lowest", MuxedLowestOnly),
    /a reschedule then a call to CPU 5 .*the call-function message was dropped when it came with a reschedule/,
  ],
  [
    "messages",
    "muxed: a call hides the reschedule that came with it",
    variant("muxed-highest", MuxedHighestOnly),
    /the reschedule message was dropped when it came with a call-function message/,
  ],
  [
    "send",
    "muxed: the single send sets its message bit in two steps",
    variant("muxed-two-step-single", MuxedTwoStepSingle),
    /concurrent-senders-one-target: .*reschedule .*never called schedulerIpi after it within the round/,
  ],
  [
    "messages",
    "muxed: the reschedule sets its message bit in two steps",
    variant("muxed-two-step-resched", MuxedTwoStepReschedule),
    /concurrent-senders-one-target: .*the call ran on .*an IPI was lost between the two senders/,
  ],
  [
    "receive",
    "muxed: reads the message word, clears it later",
    variant("muxed-late-clear", MuxedLateClear),
    /concurrent-senders-one-target: .*lost/,
  ],
  [
    "messages",
    "muxed: every call-function message is also taken as a reschedule",
    variant("muxed-call-is-resched", MuxedCallImpliesReschedule),
    /single-ipi-exact-target: single call 0 -> 7 on 8 CPUs: the receive path called schedulerIpi on CPU 7 1 time\(s\) .*but only 0 reschedule IPI\(s\) had been sent to it: a spurious reschedule/,
  ],
  [
    "send",
    "also sends each reschedule to the next CPU",
    variant("resched-next", RescheduleAlsoToNext),
    /reschedule-and-call-messages: a reschedule alone to idle CPU 3: the receive path called schedulerIpi on CPU 4 .*but only 0 reschedule IPI\(s\) had been sent to it/,
  ],
  [
    "receive",
    "muxed: reads the message word, clears it later, with a 3 us delivery latency",
    withDefaults(variant("muxed-late-clear-3us", MuxedLateClear), "muxed-late-clear-3us", {
      latencyNs: 3_000,
    }),
    /concurrent-senders-one-target: .*(lost|never called schedulerIpi)/,
  ],
  [
    "receive",
    "muxed: reads the message word, clears it later, with a 200 us delivery latency",
    withDefaults(variant("muxed-late-clear-200us", MuxedLateClear), "muxed-late-clear-200us", {
      latencyNs: 200_000,
    }),
    /concurrent-senders-one-target: .*(lost|never called schedulerIpi)/,
  ],
  [
    "statistics",
    "counts hardware signals per send, not per target",
    variant("signals-per-send", SignalsPerSend),
    /signal-statistic-per-target: .*a single call to CPU 1 \(targets \[1\]\) added 0 to statistic raises, expected 1/,
  ],
  [
    "statistics",
    "reports twice the raises",
    variant("wrong-stats", WrongStatistics),
    /the backend's statistics are wrong/,
  ],
  [
    "statistics",
    "a read-to-clear counter",
    variant("read-to-clear", ReadToClear),
    /statistic interruptsTaken decreased from \d+ \(t=\d+ ns\) to \d+ \(t=\d+ ns\) during the workload/,
  ],
  [
    "statistics",
    "a read-to-clear counter in one live object",
    variant("live-read-to-clear", LiveReadToClear),
    /statistics-consistent: statistic interruptsTaken decreased from \d+ \(t=\d+ ns\) to \d+ \(t=\d+ ns\) during the workload/,
  ],
  [
    "statistics",
    "an average that is NaN",
    variant("nan-stat", NaNStatistic),
    /statistics must be finite numbers >= 0/,
  ],
  [
    "determinism",
    "jitters with Math.random",
    variant("math-random", UsesMathRandom),
    /two runs with seed 21 differ \(nothing ran between them\) [\s\S]*the backend uses a source of randomness, order or state other than the machine's/,
  ],
  [
    "determinism",
    "keeps state shared by every machine",
    variant("shared-state", SharedAcrossMachines),
    /two runs with seed 21 differ/,
  ],
  [
    "determinism",
    "reaches its machine through the instance built last (a module-level singleton)",
    variant("singleton", SingletonWires),
    /same-seed-same-trace: two runs with seed 21 differ \(the second had other systems built after its own, before it ran, one with the run's options, .*: a backend must reach only the machine it was built with, and keep what it read from its options, never in module state\)/,
  ],
  [
    "timing",
    "raises with no delay while declaring latencyNs",
    variant("zero-latency", ZeroLatency),
    /causality-and-latency: .*only \d+ ns after the send .*earlier than the declared minimum delivery latency of 1,000 ns/,
  ],
  [
    "timing",
    "delivers in no time and declares nothing",
    undeclaredZero,
    /an interrupt taken at the instant of its send; the backend declares no minimum delivery latency/,
  ],
  [
    "timing",
    "raises interrupts nobody sent",
    variant("spurious", SpuriousAhead),
    /an interrupt with no send \(spurious, or meant for another CPU\)/,
  ],
  [
    "faults",
    "never retries a transient failure",
    variant("no-retry", NeverRetries, queueCaps, queueOptions),
    /transient failures must be retried|was not retried/,
  ],
  [
    "faults",
    "retries a busy target forever",
    variant("busy-forever", BusyForever, queueCaps, queueOptions),
    /busy-target-reported-within-bound: .*ran out of its event budget .*CPU 0 still in sendCallFunctionSingleIpi \(to CPU 5\)/,
  ],
  [
    "faults",
    "gives up on a busy target silently",
    variant("busy-silent", BusyGivesUpSilently, queueCaps, queueOptions),
    /CPU 5 never drained its queue, yet no arch-error was reported .*a send to a busy target was given up silently/,
  ],
  [
    "faults",
    "retries a busy target past its declared bound",
    variant("busy-past-bound", BusyPastBound, queueCaps, queueOptions),
    /one send to busy CPU 5 retried \d+ times \(retries\), more than the declared bound of 200/,
  ],
  [
    "faults",
    "drops IPIs to a CPU in error without a report",
    variant("silent-error", SilentOnError, queueCaps, queueOptions),
    /CPU 5 was failed with errorCpus=5 but no arch-error was reported/,
  ],
  [
    "statistics",
    "per-CPU counters summed over the online CPUs only (they go down when a CPU goes offline)",
    variant("online-sum", StatisticsOverOnlineCpus),
    /targets-after-hotplug-holes: .*statistic (interruptsTaken|acks) decreased from \d+ before any CPU went offline \(t=\d+ ns\) to \d+ once they were offline/,
  ],
  [
    "statistics",
    "counts NACKed delivery attempts as raises (wrong only under transient faults)",
    variant("nack-raises", CountsNackedAttemptsAsRaises, queueCaps, queueOptions),
    /transient-faults-retried: with transient faults, statistic raises = \d+ but the trace has \d+ ipi_raise events/,
  ],
  [
    "statistics",
    "adds a statistics key once a CPU has come back",
    variant("boot-key", KeyAddedOnFirstBoot),
    /the backend's statistics keys changed during the run, from \(ipisRaised, interruptsTaken, acks, rescheduleIpis, raises, cpus\) to \(ipisRaised, interruptsTaken, acks, rescheduleIpis, raises, cpus, cpuBoots\)/,
  ],
  [
    "determinism",
    "muxed: message words cached per machine size in module state",
    variant("words-by-size", WordsSharedBySize),
    /same-seed-same-trace: two runs with seed 21 differ \(the second ran interleaved with a run of seed 25 on another machine of the same size/,
  ],
  [
    "hotplug",
    "muxed: bringing a CPU up resets every CPU's message word",
    variant("boot-resets-all", BootResetsEveryWord),
    /offline-delivery-safe: a call to CPU 1, pending \(interrupts off\) while CPU 5 was brought up, (never ran on CPU 1|ran on CPU 1 only when it went idle)/,
  ],
  [
    "hotplug",
    "declares offlineDelivery pending but drops what was raised while the CPU was offline",
    variant("pending-dropped", PendingDeclaredButDropped),
    /offline-delivery-safe: a raw call-function IPI sent to CPU 5 while it was offline ran the core handler 0 time\(s\) once CPU 5 was back, expected 1: the backend declares offlineDelivery "pending"/,
  ],
  [
    "receive",
    "takes the call-function line as a trap (with interrupts off)",
    variant("call-trap", CallLineIsATrap),
    /genericSmpCallFunctionInterrupt on CPU \d+ at t=[\d,]+ ns in an interrupt \(line 0\) taken while the interrupted code had interrupts disabled/,
  ],
  [
    "messages",
    "the reschedule handler also runs the call-function handler",
    variant("resched-flushes", RescheduleAlsoFlushes),
    /reschedule-and-call-messages: a reschedule alone to idle CPU 3: the receive path called genericSmpCallFunctionInterrupt on CPU 3 1 time\(s\) .*but only 0 call-function IPI\(s\) had been sent to it: a spurious call-function message/,
  ],
  [
    "messages",
    "muxed: every reschedule message is also taken as a call-function message",
    variant("muxed-resched-is-call", MuxedReschedImpliesCall),
    /reschedule-and-call-messages: a reschedule alone to idle CPU 3: the receive path called genericSmpCallFunctionInterrupt on CPU 3 1 time\(s\) .*a spurious call-function message/,
  ],
  [
    "faults",
    "drops IPIs to the CPU after a CPU in error, without a report",
    variant("error-off-by-one", ErrorMaskOffByOne, queueCaps, queueOptions),
    /permanent-faults-reported: a broadcast from CPU 0 with only CPU 5 failed \(errorCpus=5\) never ran on healthy CPU\(s\) \[6\]/,
  ],
  [
    "faults",
    "a NACK restarts the whole mask (targets already reached get it again)",
    variant("retry-whole-mask", RetriesWholeMask, queueCaps, queueOptions),
    /transient-faults-retried: .*the receive path called genericSmpCallFunctionInterrupt on CPU \d+ 2 time\(s\) .*a spurious call-function message/,
  ],
  [
    "faults",
    "declares transient faults whose options inject nothing, and no retry statistic",
    variant("lying-transient", GenericIpi, {
      transientFaults: true,
      transientFaultOptions: { latencyNs: 1000 },
    }),
    /transient-faults-retried: the backend declares transient faults but no retryStatistic/,
  ],
  [
    "hotplug",
    "an all-but-self shorthand that also reaches the offline CPUs",
    variant("shorthand-offline", ShorthandReachesOfflineCpus),
    /targets-after-hotplug-holes: .*the receive path called genericSmpCallFunctionInterrupt on CPU \d+ \d+ time\(s\) .*a spurious call-function message/,
  ],
  [
    "acknowledgement",
    "forgets every third acknowledgement, and names the acknowledgements as the interrupts that need one",
    variant("ack-alias", ForgetsAckDeclaredAsNeeded, { ackedInterruptStatistic: "acks" }),
    /receive-acknowledges-once: capabilities.ackedInterruptStatistic and ackStatistic both name "acks"/,
  ],
  [
    "send",
    "busy-waits with interrupts on inside a send called with them off",
    variant("send-opens-irqs", SendOpensInterrupts),
    /interrupt-state-kept: .*a call CPU 1 sent to CPU 0 ran on CPU 0 while CPU 0 had interrupts disabled, inside its sends/,
  ],
  [
    "descriptor",
    "validate refuses every machine (an inverted size test): every check would be skipped for machine size",
    {
      ...variant("refuses-all", GenericIpi),
      validate() {
        throw new ArchOptionError("this platform needs more CPUs than the machine has");
      },
    },
    /descriptor-valid: the backend refuses a 2-CPU machine with these options \(this platform needs more CPUs than the machine has\): a backend must accept machines of 2, 3, 4, 8 CPUs/,
  ],
  [
    "statistics",
    "a raise statistic that leaves out the reschedule raises",
    variant("raises-no-resched", GenericIpi, { raiseStatistic: "ipisRaised" }),
    /statistics-consistent: statistic ipisRaised = \d+ but the trace has \d+ ipi_raise events: the backend's statistics are wrong/,
  ],
  [
    "descriptor",
    "declares a misspelt tracepoint (a kernel profile's ftrace export would drop the event)",
    { ...variant("tracepoint-typo", GenericIpi), tracepoints: ["ipi_raise", "ipi_entyr", "ipi_exit"] },
    /statistics-consistent: the descriptor's tracepoints name "ipi_entyr", which no event of a mixed workload, a broadcast, a single call and a reschedule recorded/,
  ],
  [
    "timing",
    "adds to a send offset (sentAfterNs) at every send and never resets it",
    variant("offset-grows", SendOffsetNeverReset),
    /sustained-traffic-never-loses: after 24000 calls, a raw IPI from CPU 0 to idle CPU 5 was taken [\d,]+ ns after its send, where a fresh machine takes one [\d,]+ ns after it: the backend's delivery time grew with the traffic/,
  ],
  [
    "messages",
    "names the reschedule line as the call-function line",
    variant("one-line-name", OneNameForBothLines),
    /reschedule-and-call-messages: line 0 carried only call-function messages and line 1 only reschedules, but lineName gives both "Function call interrupts"/,
  ],
  [
    "hotplug",
    "muxed: bringing a CPU up resets the previous CPU's message word",
    variant("boot-resets-previous", BootResetsPreviousWord),
    /offline-delivery-safe: a call to CPU 4, pending \(interrupts off\) while CPU 5 was brought up, (never ran on CPU 4|ran on CPU 4 only when it went idle)/,
  ],
  [
    "determinism",
    "keeps the latency its constructor read from the options in module state (the last machine built wins)",
    variant("latency-in-module", LatencyInModuleState),
    /same-seed-same-trace: two runs with seed 21 differ \(the second had other systems built after its own, before it ran, one with the run's options, one for each of latencyNs=1000000, sendCostNs=1000000 and one with all of these/,
  ],
  [
    "send",
    "single sends and reschedules to CPUs 256 .. last-1 wrap at 8 bits",
    variant("single-wrap-256", SingleWrapsAt256),
    /mask-word-boundaries: 8192 CPUs, sender CPU 0: single call to CPU 256 \(never finished: run status deadlock\): IPIs went to the wrong CPU: \[256\] never took one, \[0\] took one without being targets/,
  ],
  [
    "hotplug",
    "gives up on a CPU booted a second time (counts boots)",
    variant("second-boot", GivesUpOnRebootedCpu),
    /targets-after-hotplug-holes: CPUs \[0, 3, 7\] going offline and coming back 3 times \(sender CPU 5\): return 2: single call to CPU 0 \(never finished: run status deadlock\): \[0\] never took the IPI \(IPI lost\)/,
  ],
  [
    "timing",
    "declares a minimum latency 500 ns above what it delivers when sendCostNs is not the default",
    variant("latency-lie-option", GenericIpi, {
      minDeliveryLatencyNs: (o) => (o.latencyNs as number) + (o.sendCostNs === 100 ? 0 : 500),
    }),
    /causality-and-latency: with --arch-opt sendCostNs=1000000: mixed workload on 16 CPUs: CPU \d+ took an interrupt at t=[\d,]+ ns, only 1,000 ns after the send at t=[\d,]+ ns: earlier than the declared minimum delivery latency of 1,500 ns/,
  ],
  [
    "hotplug",
    "declares offlineDelivery dropped for one latencyNs value, but keeps offline IPIs pending at every value",
    variant("offline-lie-option", GenericIpi, {
      offlineDelivery: (o) => (o.latencyNs === 1000 ? "pending" : "dropped"),
    }),
    /offline-delivery-safe: with --arch-opt latencyNs=1000000: a raw call-function IPI sent to CPU 5 while it was offline ran the core handler 1 time\(s\) once CPU 5 was back, expected 0: the backend declares offlineDelivery "dropped"/,
  ],
  [
    "receive",
    "returns from the reschedule receive path with traps held (an early return skips holdTraps(false))",
    variant("rx-traps-held", ReceiveReturnsTrapsHeld),
    /backend rx-traps-held: handleInterrupt\(\d+, 1\) returned with traps held \(holdTraps\(true\) without holdTraps\(false\), t=[\d,]+ ns\): release them before the receive path returns/,
  ],
  [
    "statistics",
    "statistics() throws once a CPU has come back",
    variant("stats-throw", StatisticsThrowAfterBoot),
    /offline-delivery-safe: the program on CPU 0 threw ConformanceFailure: the backend's statistics\(\) threw Error: stale per-CPU table at t=[\d,]+ ns \(8 of 8 CPUs online\): statistics\(\) must always return its counters/,
  ],
  [
    "hotplug",
    "declares offlineDelivery dropped at the third choice of an enum option only (the kit tried only the first other choice)",
    variant(
      "offline-lie-enum",
      GenericIpi,
      { offlineDelivery: (o) => (o.controller === "gic-v4" ? "dropped" : "pending") },
      {
        ...generic.options,
        controller: {
          type: "enum",
          choices: ["gic-v2", "gic-v3", "gic-v4"],
          default: "gic-v2",
          description: "interrupt controller (no effect on delivery)",
        },
      },
    ),
    /offline-delivery-safe: with --arch-opt controller=gic-v4: a raw call-function IPI sent to CPU 5 while it was offline ran the core handler 1 time\(s\) once CPU 5 was back, expected 0/,
  ],
  [
    "determinism",
    "jitters reschedules only with Math.random",
    variant("random-resched", RandomOnReschedule),
    /mask-word-boundaries: Math\.random\(\) called \d+ time\(s\) while the check ran \(the first: Math\.random\(\) from .*sendRescheduleIpi/,
  ],
  [
    "determinism",
    "draws a CPU's latency offset with Math.random when it boots",
    variant("random-boot", RandomOnBoot),
    /targets-after-hotplug-holes: Math\.random\(\) called \d+ time\(s\) while the check ran/,
  ],
  [
    "determinism",
    "jitters with Math.random on machines of more than 16 CPUs only",
    variant("random-big", RandomOnBigMachines),
    /mask-word-boundaries: Math\.random\(\) called \d+ time\(s\) while the check ran/,
  ],
  [
    "determinism",
    "counts boots in module state and adds that count modulo 3 to its latency",
    variant("boots-in-module", BootCountInModuleState),
    /same-seed-same-trace: two runs with seed 21 differ \(nothing ran between them\)/,
  ],
  [
    "hotplug",
    "declares offlineDelivery dropped, but its boot hook drops offline IPIs at a CPU's first boot only",
    variant("offline-first-boot", DropsOfflineOnFirstBootOnly, { offlineDelivery: "dropped" }),
    /offline-delivery-safe: offline cycle 2 of CPU 5: a raw call-function IPI sent to it while it was offline ran the core handler 1 time\(s\) once it was back, expected 0/,
  ],
  [
    "hotplug",
    "declares offlineDelivery pending, but its boot hook drops offline IPIs from a CPU's second boot on",
    variant("offline-second-boot", DropsOfflineFromSecondBoot),
    /offline-delivery-safe: offline cycle 2 of CPU 5: a raw call-function IPI sent to it while it was offline ran the core handler 0 time\(s\) once it was back, expected 1/,
  ],
  [
    "messages",
    "swaps the names of the call-function and reschedule lines",
    variant("swapped-names", SwappedLineNames),
    /reschedule-and-call-messages: line 1 carried only reschedules \(schedulerIpi\), but lineName calls it "Function call interrupts", a call-function name/,
  ],
  [
    "send",
    "a 64-CPU hart window moved on only past base+64: target base+64 wraps to the base (caught before only at 1024 CPUs and up)",
    variant("hart-window", HartWindowOffByOne),
    /mask-word-boundaries: 129 CPUs, sender CPU 0: mask \[0, 1, 2, 3, .*\[65\] never took the IPI \(IPI lost\)/,
  ],
  [
    "send",
    "mask sends in batches of 256 targets lose the target that overflows a batch (caught before only at 1024 CPUs and up)",
    variant("batch-256", Batch256LosesOverflow),
    /mask-word-boundaries: 8192 CPUs, sender CPU 0: mask \[0, 3, 6, 9, .*\[771\] never took the IPI \(IPI lost\)/,
  ],
  [
    "timing",
    "delivers to CPUs 64 and up in half its declared minimum latency",
    variant("faster-far", FasterFarCpus),
    /mask-word-boundaries: 65 CPUs, sender CPU 0: CPU 64 took an interrupt at t=[\d,]+ ns, only 500 ns after the send at t=[\d,]+ ns: earlier than the declared minimum delivery latency of 1,000 ns/,
  ],
  [
    "hotplug",
    "declares offlineDelivery pending, but its boot hook clears the reschedule line",
    variant("boot-clears-resched", BootClearsRescheduleLine),
    /offline-delivery-safe: a raw reschedule IPI sent to CPU 5 while it was offline reached schedulerIpi 0 time\(s\) once it was back, expected 1/,
  ],
  [
    "send",
    "WARNs on every reschedule it sends, not only on one to an offline CPU",
    warnsOnReschedule,
    /offline-delivery-safe: warnings: reschedule IPI to CPU [0-46-9]/,
  ],
  [
    "statistics",
    "counts a mask send's raises in a byte (wrong from 256 targets on)",
    variant("count-in-byte", MaskRaisesCountedInAByte),
    /statistics-consistent: a broadcast and a reschedule on 300 CPUs: statistic raises grew by 44 but the trace has 300 ipi_raise events[\s\S]*signal-statistic-per-target: mask sends from CPU 0 to idle CPUs of a 300-CPU machine, 50 us apart: a mask call to every CPU but the sender \(299 targets\) added 43 to statistic raises, expected 299/,
  ],
  [
    "acknowledgement",
    "keeps acknowledgements per CPU in 8-bit counters (wrong from a CPU's 256th interrupt on)",
    variant("acks-in-bytes", AcksPerCpuInBytes),
    /sustained-traffic-never-loses: after 24000 calls: acknowledgements \(acks = \d+\) must equal the interrupts that need one \(interrupts taken = \d+\): an interrupt was not acknowledged/,
  ],
  [
    "statistics",
    "keeps raises per target CPU in 8-bit counters (wrong from a CPU's 256th raise on)",
    variant("raises-in-bytes", RaisesPerTargetInBytes),
    /sustained-traffic-never-loses: after 24000 calls: statistic raises = \d+ but the backend raised [\d,]+ lines \(the ipi_raise events of a trace\): a counter that wraps/,
  ],
];

function failures(d: ArchDescriptor): ConformanceResult[] {
  return runConformance(d, { cpuSizes: [2, 3, 64], schedules: 8 }).filter((r) => r.status === "fail");
}

describe("the conformance kit's mutation suite: every broken backend fails with a message naming its bug", () => {
  it("has at least 20 mutants, over every kind of backend code", () => {
    expect(MUTANTS.length).toBeGreaterThanOrEqual(20);
    expect(new Set(MUTANTS.map((m) => m[0]))).toEqual(
      new Set([
        "send",
        "receive",
        "acknowledgement",
        "statistics",
        "determinism",
        "hotplug",
        "timing",
        "faults",
        "messages",
        "descriptor",
      ]),
    );
  });

  it.each(MUTANTS)(
    "%s: %s",
    (_kind, bug, d, message) => {
      const failed = failures(d);
      if (process.env.KIT_DEBUG)
        console.log(bug, failed.map((f) => `${f.name}: ${f.message.slice(0, 400)}`).join("\n"));
      expect(failed.length).toBeGreaterThan(0);
      expect(failed.map((f) => `${f.name}: ${f.message}`).join("\n")).toMatch(message);
    },
    120_000,
  );

  it("passes the reference backends the mutants come from", () => {
    expect(failures(generic)).toEqual([]);
    expect(failures(muxed)).toEqual([]);
    expect(failures(queued)).toEqual([]);
  }, 120_000);

  it("runs a backend as it runs outside the kit: the probe passes a raise's sentAfterNs through", () => {
    /** Raises 50 us after the send (sentAfterNs) plus the latency, and declares that as its least latency. */
    class SentLate extends GenericIpi {
      override *sendCallFunctionIpiMask(mask: CpuMask): CpuCode<void> {
        for (let c = mask.first(); c < mask.nrCpuIds; c = mask.next(c))
          yield* this.sendCallFunctionSingleIpi(c);
      }
      override *sendCallFunctionSingleIpi(cpu: number): CpuCode<void> {
        this.wires.raise(cpu, LINE_CALL_FUNCTION, this.latencyNs, 50_000);
        this.ipisRaised++;
        yield this.sendCostNs;
      }
      override *sendRescheduleIpi(cpu: number): CpuCode<void> {
        this.wires.raise(cpu, LINE_RESCHEDULE, this.latencyNs, 50_000);
        this.rescheduleIpis++;
        yield this.sendCostNs;
      }
    }
    const d = variant("sent-late", SentLate, {
      minDeliveryLatencyNs: (o) => 50_000 + (o.latencyNs as number),
    });
    expect(runConformance(d, { only: ["causality-and-latency"] }).map((r) => [r.status, r.message])).toEqual([
      ["pass", ""],
    ]);
  });

  it("puts back Math.random, Date, performance.now and process.hrtime after each check, also one that failed", () => {
    const globals = (): unknown[] =>
      [
        [Math, "random"],
        [globalThis, "Date"],
        [Date, "now"],
        [performance, "now"],
        [process, "hrtime"],
      ].map(([owner, key]) => Reflect.get(owner as object, key as string));
    const before = globals();
    const rs = runConformance(variant("random-resched-2", RandomOnReschedule), {
      only: ["reschedule-and-call-messages", "single-ipi-exact-target"],
    });
    expect(rs.map((r) => r.status)).toEqual(["pass", "fail"]);
    expect(globals()).toEqual(before);
    expect(rs[1].message).toMatch(/^Math\.random\(\) called \d+ time\(s\) while the check ran/);
  });

  it("passes a slow but correct backend (generic at 1 ms delivery and 1 ms per raise): the kit stretches its time windows", () => {
    expect(failures(slowGeneric)).toEqual([]);
  }, 120_000);

  it("runs the fault checks on the faulty reference and skips them on generic, with the reason", () => {
    const rs = runConformance(generic, {
      only: ["permanent-faults-reported", "busy-target-reported-within-bound"],
    });
    expect(rs.map((r) => [r.name, r.status, r.message])).toEqual([
      ["permanent-faults-reported", "skipped", expect.stringMatching(/declares no permanent faults/)],
      ["busy-target-reported-within-bound", "skipped", expect.stringMatching(/declares no busy targets/)],
    ]);
    const q = runConformance(queued, {
      only: ["transient-faults-retried", "permanent-faults-reported", "busy-target-reported-within-bound"],
    });
    expect(q.map((r) => r.status)).toEqual(["pass", "pass", "pass"]);
  }, 60_000);
});
