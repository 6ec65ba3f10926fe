/**
 * The conformance kit's own mutation suite: correct reference backends and broken variants of
 * them, one bug each. `conformance-mutants.test.ts` runs the whole kit on each and expects it to
 * fail with a message naming the bug; docs/conformance.md gives the catch rate.
 */
import { instanceCachingFactory, type DependencyContainer } from "tsyringe";
import {
  descriptor as generic,
  GenericIpi,
  LINE_CALL_FUNCTION,
  LINE_RESCHEDULE,
} from "@smpcall/arch-generic";
import {
  ArchIpiToken,
  ArchOptionsToken,
  CpuMask as Mask,
  InterconnectToken,
  MachineToken,
  SmpHandlersToken,
  type ArchDescriptor,
  type ArchOptionValues,
  type ArchStatistics,
  type CpuCode,
  type CpuMask,
} from "@smpcall/core";

type IpiClass = new (...args: ConstructorParameters<typeof GenericIpi>) => GenericIpi;

/** A generic-based descriptor whose ArchIpi class is `impl`. */
export function variant(
  name: string,
  impl: IpiClass,
  caps: Partial<ArchDescriptor["capabilities"]> = {},
  options: ArchDescriptor["options"] = generic.options,
): ArchDescriptor {
  return {
    ...generic,
    name,
    options,
    capabilities: { ...generic.capabilities, ...caps },
    register(container: DependencyContainer) {
      // Subclasses carry no decorator metadata of their own: build them with a factory.
      container.register(ArchIpiToken, {
        useFactory: instanceCachingFactory(
          (c) =>
            new impl(
              c.resolve(InterconnectToken),
              c.resolve(SmpHandlersToken),
              c.resolve(MachineToken),
              c.resolve(ArchOptionsToken),
            ),
        ),
      });
    },
  };
}

// ------------------------------------------------------------------ a muxed reference backend

/** Message bits of {@link MuxedIpi}'s word. */
export const MSG_RESCHEDULE = 0;
export const MSG_CALL = 1;

/** One line per CPU carrying a message word (reschedule, call function), like PowerPC or RISC-V muxing. */
export class MuxedIpi extends GenericIpi {
  protected readonly words: Uint8Array;
  constructor(...args: ConstructorParameters<typeof GenericIpi>) {
    super(...args);
    this.words = new Uint8Array(this.machine.nrCpus);
  }
  /** Set `msg` in `cpu`'s word and raise its line; counted as a call-function raise or a reschedule. */
  protected post(cpu: number, msg: number): void {
    this.words[cpu] |= 1 << msg;
    this.wires.raise(cpu, LINE_CALL_FUNCTION, this.latencyNs);
    if (msg === MSG_RESCHEDULE) this.rescheduleIpis++;
    else this.ipisRaised++;
  }
  override *sendCallFunctionIpiMask(mask: CpuMask): CpuCode<void> {
    for (let c = mask.first(); c < mask.nrCpuIds; c = mask.next(c)) {
      this.post(c, MSG_CALL);
      yield this.sendCostNs;
    }
  }
  override *sendCallFunctionSingleIpi(cpu: number): CpuCode<void> {
    this.post(cpu, MSG_CALL);
    yield this.sendCostNs;
  }
  override *sendRescheduleIpi(cpu: number): CpuCode<void> {
    this.post(cpu, MSG_RESCHEDULE);
    yield this.sendCostNs;
  }
  /** The messages this receive path handles out of `word`. */
  protected handled(word: number): number {
    return word;
  }
  override *handleInterrupt(cpu: number): CpuCode<void> {
    this.interruptsTaken++;
    this.acks++;
    const word = this.handled(this.words[cpu]);
    this.words[cpu] = 0;
    if (word & (1 << MSG_RESCHEDULE)) this.smp.schedulerIpi();
    if (word & (1 << MSG_CALL)) yield* this.smp.genericSmpCallFunctionInterrupt();
  }
}

export const muxed = variant("muxed", MuxedIpi);

// ------------------------------------------------------------------ a reference backend with faults

/** Options of the faulty reference backend. */
export const queueOptions: ArchDescriptor["options"] = {
  ...generic.options,
  queueDepth: { type: "integer", min: 1, max: 64, default: 8, description: "hardware queue entries per CPU" },
  nackRate: { type: "number", min: 0, max: 1, default: 0, description: "probability a target answers busy" },
  retryLimit: {
    type: "integer",
    min: 1,
    max: 100_000,
    default: 1000,
    description: "retries before giving up",
  },
  errorCpus: { type: "cpulist", default: "", description: "CPUs in error for good" },
};

/**
 * A backend with a per-CPU hardware queue (drained when the CPU takes its interrupt), transient
 * busy answers that it retries, a retry limit after which it reports the target, and CPUs in
 * error that it reports: a small sparc-like model the kit's fault checks apply to.
 */
export class QueueIpi extends GenericIpi {
  protected readonly queued: Uint16Array;
  protected readonly depth: number;
  protected readonly nackRate: number;
  protected readonly retryLimit: number;
  protected readonly errorCpus: CpuMask;
  protected retries = 0;
  protected reports = 0;
  constructor(...args: ConstructorParameters<typeof GenericIpi>) {
    super(...args);
    const o: ArchOptionValues = args[3];
    this.queued = new Uint16Array(this.machine.nrCpus);
    this.depth = o.queueDepth as number;
    this.nackRate = o.nackRate as number;
    this.retryLimit = o.retryLimit as number;
    this.errorCpus = Mask.parse(this.machine.nrCpus, o.errorCpus as string);
  }
  protected busy(cpu: number): boolean {
    return (
      this.queued[cpu] >= this.depth ||
      (this.nackRate > 0 && this.machine.chooser.chance(this.nackRate, "nack"))
    );
  }
  protected report(cpu: number, what: string): void {
    this.reports++;
    this.wires.reportProblem({ kind: "arch-error", time: this.machine.now, cpu, message: what });
  }
  protected *deliver(cpu: number, line: number): CpuCode<void> {
    if (this.errorCpus.test(cpu)) {
      this.report(cpu, `CPU ${cpu} is in error: IPI dropped`);
      yield this.sendCostNs;
      return;
    }
    let tries = 0;
    while (this.busy(cpu)) {
      if (++tries > this.retryLimit) {
        this.report(cpu, `CPU ${cpu} stayed busy for ${this.retryLimit} retries: IPI dropped`);
        return;
      }
      this.retries++;
      yield 500;
    }
    this.queued[cpu]++;
    this.wires.raise(cpu, line, this.latencyNs);
    this.ipisRaised++;
    yield this.sendCostNs;
  }
  override *sendCallFunctionIpiMask(mask: CpuMask): CpuCode<void> {
    for (let c = mask.first(); c < mask.nrCpuIds; c = mask.next(c))
      yield* this.deliver(c, LINE_CALL_FUNCTION);
  }
  override *sendCallFunctionSingleIpi(cpu: number): CpuCode<void> {
    yield* this.deliver(cpu, LINE_CALL_FUNCTION);
  }
  override *sendRescheduleIpi(cpu: number): CpuCode<void> {
    this.rescheduleIpis++;
    yield* this.deliver(cpu, LINE_RESCHEDULE); // counted in ipisRaised too: every raise is
  }
  override *handleInterrupt(cpu: number, line: number): CpuCode<void> {
    this.queued[cpu] = 0; // the trap drains the queue
    yield* super.handleInterrupt(cpu, line);
  }
  override statistics(): ArchStatistics {
    // ipisRaised already counts every raise, reschedules included: one signal each.
    return { ...super.statistics(), raises: this.ipisRaised, retries: this.retries, reports: this.reports };
  }
}

export const queueCaps: Partial<ArchDescriptor["capabilities"]> = {
  transientFaults: true,
  permanentFaults: true,
  transientFaultOptions: { nackRate: 0.3 },
  permanentFaultOption: "errorCpus",
  retryStatistic: "retries",
  busyRetryBound: (o) => o.retryLimit as number,
  busyTargetOptions: { queueDepth: 1, retryLimit: 200 },
};

export const queued = variant("queued", QueueIpi, queueCaps, queueOptions);

/** Holds traps in its reschedule receive path and returns early without releasing them. */
export class ReceiveReturnsTrapsHeld extends GenericIpi {
  override *handleInterrupt(cpu: number, line: number): CpuCode<void> {
    if (line !== LINE_RESCHEDULE) return yield* super.handleInterrupt(cpu, line);
    this.wires.holdTraps(true);
    this.interruptsTaken++;
    this.acks++;
    this.smp.schedulerIpi(); // early return: holdTraps(false) forgotten
  }
}
