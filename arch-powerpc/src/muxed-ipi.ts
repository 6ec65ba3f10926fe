import { inject, injectable } from "tsyringe";
import {
  ArchOptionsToken,
  InterconnectToken,
  MachineToken,
  SmpHandlersToken,
  TraceToken,
  type ArchIpi,
  type ArchOptionValues,
  type ArchStatistics,
  type CpuCode,
  type CpuMask,
  type Interconnect,
  type Machine,
  type SmpHandlers,
  type TraceSink,
} from "@smpcall/core";
import {
  LINE_CONTROLLER,
  LINE_DOORBELL,
  MSG_2008_CALL_FUNC_SINGLE,
  MSG_2008_CALL_FUNCTION,
  MSG_2008_NAMES,
  MSG_2008_RESCHEDULE,
  MSG_ALL_BUT_SELF,
  PPC_MSG_CALL_FUNCTION,
  PPC_MSG_NAMES,
  PPC_MSG_NMI_IPI,
  PPC_MSG_RESCHEDULE,
  PPC_MSG_TICK_BROADCAST,
} from "./messages";
import { MPIC_DEST_WIDTH, type PpcPlatform } from "./platform";

/**
 * PowerPC IPIs. On powernv/pseries one hardware IPI per CPU carries several messages in a
 * per-CPU word: send = set the message bit, full barrier, `cause_ipi`; receive = acknowledge the
 * source, then loop: fetch-and-clear the word, handle every message set in the kernel's order
 * (call function, reschedule, tick broadcast, NMI), again while the word is non-zero. A second
 * send of a message not yet demuxed is absorbed by the word. `cause_ipi` uses a doorbell for an
 * SMT sibling of the sender and the interrupt controller (XICS MFRR write, XIVE trigger, or the
 * H_IPI hypercall on pseries) otherwise. The 2008 MPIC platform has no word: one IPI channel
 * (machine line) per message, and `message_pass` can name MSG_ALL_BUT_SELF.
 */
@injectable()
export class MuxedIpi implements ArchIpi {
  /** The platform in use. */
  readonly platform: PpcPlatform;
  /** SMT threads per core (cores are groups of consecutive CPU ids). */
  readonly threadsPerCore: number;
  private readonly words: Uint8Array;
  private readonly doorbellSendNs: number;
  private readonly doorbellLatencyNs: number;
  private readonly controllerSendNs: number;
  private readonly controllerLatencyNs: number;
  // Counters.
  private doorbells = 0;
  private xicsWrites = 0;
  private xiveTriggers = 0;
  private hIpiHcalls = 0;
  private mpicWrites = 0;
  private msgAllButSelf = 0;
  private messagesSent = 0;
  private messagesAbsorbed = 0;
  private demuxLoops = 0;
  private interrupts = 0;
  private doorbellAcks = 0;
  private controllerEois = 0;
  private readonly handled = [0, 0, 0, 0];

  constructor(
    @inject(MachineToken) private readonly machine: Machine,
    @inject(InterconnectToken) private readonly wires: Interconnect,
    @inject(SmpHandlersToken) private readonly smp: SmpHandlers,
    @inject(TraceToken) private readonly trace: TraceSink,
    @inject(ArchOptionsToken) options: ArchOptionValues,
  ) {
    this.platform = options.platform as PpcPlatform;
    this.threadsPerCore = Number(options.threadsPerCore);
    this.words = new Uint8Array(machine.nrCpus);
    this.doorbellSendNs = options.doorbellSendNs as number;
    this.doorbellLatencyNs = options.doorbellLatencyNs as number;
    const controller: Record<PpcPlatform, [number, number]> = {
      "powernv-xics": [options.xicsSendNs as number, options.xicsLatencyNs as number],
      "powernv-xive": [options.xiveSendNs as number, options.xiveLatencyNs as number],
      pseries: [options.hcallNs as number, options.xicsLatencyNs as number],
      "mpic-2008": [options.mpicSendNs as number, options.xicsLatencyNs as number],
    };
    [this.controllerSendNs, this.controllerLatencyNs] = controller[this.platform];
  }

  /** Are two CPUs SMT siblings in one core? */
  sameCore(a: number, b: number): boolean {
    return Math.floor(a / this.threadsPerCore) === Math.floor(b / this.threadsPerCore);
  }

  /** The message word of `cpu` (bit n = message n pending). */
  messageWord(cpu: number): number {
    return this.words[cpu];
  }

  /**
   * smp_muxed_ipi_message_pass: set the message bit (absorbed if already set), barrier, cause
   * the IPI. Returns the sender time it took.
   */
  private messagePass(cpu: number, msg: number): number {
    const bit = 1 << msg;
    this.messagesSent++;
    if ((this.words[cpu] & bit) !== 0) this.messagesAbsorbed++;
    this.words[cpu] |= bit;
    return this.causeIpi(cpu);
  }

  /** cause_ipi: doorbell to a sibling, else the platform's interrupt controller. */
  private causeIpi(cpu: number): number {
    if (this.sameCore(this.machine.current, cpu)) {
      this.doorbells++;
      this.wires.raise(cpu, LINE_DOORBELL, this.doorbellSendNs + this.doorbellLatencyNs);
      return this.doorbellSendNs;
    }
    if (this.platform === "powernv-xics") this.xicsWrites++;
    else if (this.platform === "powernv-xive") this.xiveTriggers++;
    else this.hIpiHcalls++;
    this.wires.raise(cpu, LINE_CONTROLLER, this.controllerSendNs + this.controllerLatencyNs);
    return this.controllerSendNs;
  }

  /** One MPIC IPI dispatch write naming the CPUs of `mask` on channel `msg` (2008). */
  private mpicSend(msg: number, targets: readonly number[] | CpuMask): number {
    let groups = -1;
    let writes = 0;
    const each = (cpu: number) => {
      const g = Math.floor(cpu / MPIC_DEST_WIDTH);
      if (g !== groups) {
        groups = g;
        writes++;
      }
      this.wires.raise(cpu, msg, this.controllerSendNs + this.controllerLatencyNs);
    };
    if (Array.isArray(targets)) targets.forEach(each);
    else {
      const m = targets as CpuMask;
      for (let c = m.first(); c < m.nrCpuIds; c = m.next(c)) each(c);
    }
    this.mpicWrites += writes;
    return writes * this.controllerSendNs;
  }

  /** 2008 `message_pass(target, msg)`: a CPU, or MSG_ALL_BUT_SELF. */
  private messagePass2008(target: number, msg: number): number {
    const m = this.machine;
    if (target === MSG_ALL_BUT_SELF) {
      this.msgAllButSelf++;
      const all: number[] = [];
      for (let c = m.onlineMask.first(); c < m.nrCpus; c = m.onlineMask.next(c))
        if (c !== m.current) all.push(c);
      return this.mpicSend(msg, all);
    }
    return this.mpicSend(msg, [target]);
  }

  /** No multicast: one message + one cause_ipi per target (2008 MPIC: MSG_ALL_BUT_SELF when it fits). */
  *sendCallFunctionIpiMask(mask: CpuMask): CpuCode<void> {
    const m = this.machine;
    if (this.platform === "mpic-2008") {
      const self = m.current;
      const allButSelf =
        mask.weight() === m.onlineMask.weight() - 1 && mask.isSubsetOf(m.onlineMask) && !mask.test(self);
      yield allButSelf
        ? this.messagePass2008(MSG_ALL_BUT_SELF, MSG_2008_CALL_FUNCTION)
        : this.mpicSend(MSG_2008_CALL_FUNCTION, mask);
      return;
    }
    let ns = 0;
    for (let cpu = mask.first(); cpu < mask.nrCpuIds; cpu = mask.next(cpu))
      ns += this.messagePass(cpu, PPC_MSG_CALL_FUNCTION);
    yield ns;
  }

  /** The call-function message (the single message was folded into it long ago). */
  *sendCallFunctionSingleIpi(cpu: number): CpuCode<void> {
    yield this.platform === "mpic-2008"
      ? this.messagePass2008(cpu, MSG_2008_CALL_FUNC_SINGLE)
      : this.messagePass(cpu, PPC_MSG_CALL_FUNCTION);
  }

  /** PPC_MSG_RESCHEDULE. */
  *sendRescheduleIpi(cpu: number): CpuCode<void> {
    yield this.platform === "mpic-2008"
      ? this.messagePass2008(cpu, MSG_2008_RESCHEDULE)
      : this.messagePass(cpu, PPC_MSG_RESCHEDULE);
  }

  /** PPC_MSG_TICK_BROADCAST (muxed platforms): for tests and scenarios. */
  *sendTickBroadcast(cpu: number): CpuCode<void> {
    yield this.messagePass(cpu, PPC_MSG_TICK_BROADCAST);
  }

  /** PPC_MSG_NMI_IPI (muxed platforms): for tests and scenarios. */
  *sendNmiIpi(cpu: number): CpuCode<void> {
    yield this.messagePass(cpu, PPC_MSG_NMI_IPI);
  }

  /** Acknowledge the source (msgclr; XIRR read + MFRR reset + EOI), then demux (or the 2008 channel). */
  *handleInterrupt(cpu: number, line: number): CpuCode<void> {
    this.interrupts++;
    if (this.platform === "mpic-2008") {
      this.controllerEois++;
      yield* this.handle2008(cpu, line);
      return;
    }
    if (line === LINE_DOORBELL) this.doorbellAcks++;
    else this.controllerEois++;
    // smp_ipi_demux: fetch-and-clear the word; handle what was set; again while it is non-zero.
    do {
      const all = this.words[cpu];
      this.words[cpu] = 0;
      this.demuxLoops++;
      for (let msg = 0; msg < 4; msg++) {
        if ((all & (1 << msg)) === 0) continue;
        this.handled[msg]++;
        if (this.trace.enabled)
          this.trace.emit(this.machine.now, cpu, this.machine.cpus[cpu], "powerpc_ipi_message", {
            msg: PPC_MSG_NAMES[msg],
          });
        if (msg === PPC_MSG_CALL_FUNCTION) yield* this.smp.genericSmpCallFunctionInterrupt();
        else if (msg === PPC_MSG_RESCHEDULE) this.smp.schedulerIpi();
      }
    } while (this.words[cpu] !== 0);
  }

  private *handle2008(cpu: number, channel: number): CpuCode<void> {
    this.handled[channel === MSG_2008_RESCHEDULE ? PPC_MSG_RESCHEDULE : PPC_MSG_CALL_FUNCTION]++;
    if (this.trace.enabled)
      this.trace.emit(this.machine.now, cpu, this.machine.cpus[cpu], "powerpc_ipi_message", {
        msg: MSG_2008_NAMES[channel],
      });
    if (channel === MSG_2008_CALL_FUNCTION) yield* this.smp.genericSmpCallFunctionInterrupt();
    else if (channel === MSG_2008_CALL_FUNC_SINGLE) yield* this.smp.genericSmpCallFunctionSingleInterrupt();
    else if (channel === MSG_2008_RESCHEDULE) this.smp.schedulerIpi();
  }

  lineName(line: number): string {
    if (this.platform === "mpic-2008") return `MPIC IPI ${MSG_2008_NAMES[line] ?? line}`;
    return line === LINE_DOORBELL ? "Doorbell interrupts" : "IPI";
  }

  statistics(): ArchStatistics {
    return {
      doorbells: this.doorbells,
      xicsWrites: this.xicsWrites,
      xiveTriggers: this.xiveTriggers,
      hIpiHcalls: this.hIpiHcalls,
      mpicWrites: this.mpicWrites,
      msgAllButSelf: this.msgAllButSelf,
      messagesSent: this.messagesSent,
      messagesAbsorbed: this.messagesAbsorbed,
      demuxLoops: this.demuxLoops,
      interrupts: this.interrupts,
      doorbellAcks: this.doorbellAcks,
      controllerEois: this.controllerEois,
      acks: this.doorbellAcks + this.controllerEois,
      callFunctionMessages: this.handled[PPC_MSG_CALL_FUNCTION],
      rescheduleMessages: this.handled[PPC_MSG_RESCHEDULE],
      tickBroadcastMessages: this.handled[PPC_MSG_TICK_BROADCAST],
      nmiIpiMessages: this.handled[PPC_MSG_NMI_IPI],
    };
  }
}
