import { inject, injectable } from "tsyringe";
import {
  ArchOptionsToken,
  InterconnectToken,
  MachineToken,
  SmpHandlersToken,
  type ArchIpi,
  type ArchOptionValues,
  type ArchStatistics,
  type CpuCode,
  type CpuMask,
  type Interconnect,
  type Machine,
  type SmpHandlers,
} from "@smpcall/core";

/** Interrupt line that carries call-function IPIs (both the mask and the single path). */
export const LINE_CALL_FUNCTION = 0;
/** Interrupt line that carries reschedule IPIs. */
export const LINE_RESCHEDULE = 1;

/**
 * The reference backend: one software interrupt line per message per CPU, a loop over the mask,
 * a fixed delivery latency. This is the whole contract of a backend; copy it to start a port.
 */
@injectable()
export class GenericIpi implements ArchIpi {
  protected readonly latencyNs: number;
  protected readonly sendCostNs: number;
  // Counters: plain fields, read by statistics().
  protected ipisRaised = 0;
  protected interruptsTaken = 0;
  protected acks = 0;
  protected rescheduleIpis = 0;

  constructor(
    @inject(InterconnectToken) protected readonly wires: Interconnect,
    @inject(SmpHandlersToken) protected readonly smp: SmpHandlers,
    @inject(MachineToken) protected readonly machine: Machine,
    @inject(ArchOptionsToken) options: ArchOptionValues,
  ) {
    this.latencyNs = options.latencyNs as number;
    this.sendCostNs = options.sendCostNs as number;
  }

  // ---- send side: runs on the sending CPU; each hardware write costs sendCostNs there.

  /** One raise per target: no multicast hardware. */
  *sendCallFunctionIpiMask(mask: CpuMask): CpuCode<void> {
    // No multicast hardware: one raise per target. Use first/next, not the iterator (no allocation).
    const n = mask.nrCpuIds;
    for (let cpu = mask.first(); cpu < n; cpu = mask.next(cpu)) {
      this.wires.raise(cpu, LINE_CALL_FUNCTION, this.latencyNs);
      this.ipisRaised++;
      yield this.sendCostNs;
    }
  }

  /** One raise of the call-function line. */
  *sendCallFunctionSingleIpi(cpu: number): CpuCode<void> {
    this.wires.raise(cpu, LINE_CALL_FUNCTION, this.latencyNs);
    this.ipisRaised++;
    yield this.sendCostNs;
  }

  /** One raise of the reschedule line. */
  *sendRescheduleIpi(cpu: number): CpuCode<void> {
    this.wires.raise(cpu, LINE_RESCHEDULE, this.latencyNs);
    this.rescheduleIpis++;
    yield this.sendCostNs;
  }

  // ---- receive side: the machine calls this in hard-IRQ context when `cpu` takes `line`.

  /** Count and acknowledge the interrupt, then run the core handler for its line. */
  *handleInterrupt(_cpu: number, line: number): CpuCode<void> {
    this.interruptsTaken++;
    this.acks++; // acknowledge the (software) interrupt controller exactly once
    if (line === LINE_CALL_FUNCTION) yield* this.smp.genericSmpCallFunctionInterrupt();
    else if (line === LINE_RESCHEDULE) this.smp.schedulerIpi();
  }

  lineName(line: number): string {
    return line === LINE_CALL_FUNCTION
      ? "Function call interrupts"
      : line === LINE_RESCHEDULE
        ? "Rescheduling interrupts"
        : `line ${line}`;
  }

  statistics(): ArchStatistics {
    return {
      ipisRaised: this.ipisRaised,
      interruptsTaken: this.interruptsTaken,
      acks: this.acks,
      rescheduleIpis: this.rescheduleIpis,
      raises: this.ipisRaised + this.rescheduleIpis,
      cpus: this.machine.nrCpus,
    };
  }
}
