import { inject, injectable } from "tsyringe";
import {
  ArchOptionsToken,
  InterconnectToken,
  InvalidArgumentError,
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
import { DemuxFrame, type DemuxHost } from "./demux-frame";
import { CAUSE_IPI, type CauseIpiRoute, type PpcPlatform } from "./platform";

/** XIVE IPI source (ESB) state: P, an event was sent and is not yet EOIed. */
const ESB_P = 1;
/** XIVE IPI source state: Q, a trigger came while P was set (the EOI re-triggers). */
const ESB_Q = 2;

/**
 * PowerPC IPIs. On powernv/pseries one hardware IPI per CPU carries several messages in a
 * per-CPU word: send = full barrier, set the message bit, `cause_ipi`; receive = acknowledge the
 * source, then loop: fetch-and-clear the word, handle every message set in the kernel's order
 * (call function, reschedule, tick broadcast, NMI), again while the word is non-zero. A second
 * send of a message not yet demuxed is absorbed by the word. `cause_ipi` is the platform's, as
 * 6.1 picks it (see {@link PpcPlatform}): a doorbell to an SMT sibling and the interrupt
 * controller otherwise (POWER8 powernv, PowerVM), a global doorbell to any thread (POWER9+
 * powernv), the controller only (KVM guest with XIVE). The 2008 MPIC platform has no word: one
 * IPI channel (machine line) per message, and `message_pass` can name MSG_ALL_BUT_SELF.
 * Cores are the machine topology's (the backend asks for `threadsPerCore` consecutive CPUs each).
 */
@injectable()
export class MuxedIpi implements ArchIpi {
  /** The platform in use. */
  readonly platform: PpcPlatform;
  private readonly route: CauseIpiRoute | null;
  /** The controller line is an XICS presentation (MFRR) one: the handler resets it before the demux. */
  private readonly xicsController: boolean;
  /** XIVE: each CPU's IPI source PQ bits (ESB_P, ESB_Q); null without XIVE. */
  private readonly esb: Uint8Array | null;
  private readonly words: Uint8Array;
  private readonly doorbellSendNs: number;
  private readonly doorbellLatencyNs: number;
  private readonly globalDoorbellLatencyNs: number;
  private readonly hcallNs: number;
  private readonly xicsSendNs: number;
  private readonly xicsLatencyNs: number;
  private readonly xiveSendNs: number;
  private readonly xiveLatencyNs: number;
  private readonly mpicSendNs: number;
  // Counters.
  private doorbells = 0;
  private globalDoorbells = 0;
  private msgsndpTraps = 0;
  private xicsWrites = 0;
  private xiveTriggers = 0;
  private hIpiHcalls = 0;
  private mpicWrites = 0;
  /** IPIs caused at a target CPU: doorbells, controller triggers, hypercalls, MPIC channel deliveries. */
  private ipisCaused = 0;
  private msgAllButSelf = 0;
  private messagesSent = 0;
  private messagesAbsorbed = 0;
  private demuxLoops = 0;
  private interrupts = 0;
  private doorbellAcks = 0;
  private controllerEois = 0;
  /** XIVE: triggers that found the IPI source's P bit set and only set Q. */
  private xiveTriggersQueued = 0;
  /** XIVE: re-triggers by an EOI that found Q set. */
  private xiveRetriggers = 0;
  /** XICS: controller IPIs that arrived between an interrupt's entry and its MFRR reset, wiped by it. */
  private mfrrResetWiped = 0;
  /** powernv: IPIs an offline CPU cleared without handling them (counted when it comes back). */
  private offlineIpisCleared = 0;
  private readonly handled = [0, 0, 0, 0];
  /** A one-CPU target list for a 2008 message_pass, reused. */
  private readonly oneTarget = [0];
  /** Finished demux frames, reused by the next interrupt on any CPU (see `DemuxFrame`). */
  private readonly freeFrames: DemuxFrame[] = [];
  /** What a demux frame does at each of its steps: the receive path below. */
  private readonly demux: DemuxHost = {
    acknowledge: (cpu, line) => {
      this.interrupts++;
      if (line === LINE_DOORBELL) this.doorbellAcks++;
      else {
        this.controllerEois++;
        // XICS (icp_native_ipi_action / icp_hv_ipi_action): the handler resets its own MFRR
        // before the demux, wiping an IPI that arrived since the XIRR read; its message is in
        // the word and the demux that follows handles it. (XIVE has no such reset: a trigger
        // meanwhile fires again after the EOI, as a pending line does here.)
        if (this.xicsController && this.wires.isPending(cpu, LINE_CONTROLLER)) {
          this.wires.clearPending(cpu, LINE_CONTROLLER);
          this.mfrrResetWiped++;
        }
      }
    },
    fetchAndClear: (cpu) => {
      const all = this.words[cpu];
      this.words[cpu] = 0;
      this.demuxLoops++;
      return all;
    },
    wordSet: (cpu) => this.words[cpu] !== 0,
    eoi: (cpu, line) => {
      // XIVE (xive_ipi_eoi -> xive_do_source_eoi): the EOI sets the IPI source's PQ bits back to
      // 00 and, if a trigger came while P was set (Q), triggers it again.
      if (line !== LINE_CONTROLLER || this.esb === null) return;
      const pq = this.esb[cpu];
      this.esb[cpu] = 0;
      if ((pq & ESB_Q) !== 0) {
        this.xiveRetriggers++;
        this.esb[cpu] = ESB_P;
        this.wires.raise(cpu, LINE_CONTROLLER, this.xiveSendNs + this.xiveLatencyNs);
      }
    },
    handleMessage: (cpu, msg) => {
      this.handled[msg]++;
      if (this.trace.enabled)
        this.trace.emit(this.machine.now, cpu, this.machine.cpus[cpu], "powerpc_ipi_message", {
          msg: PPC_MSG_NAMES[msg],
        });
      if (msg === PPC_MSG_CALL_FUNCTION) return this.smp.genericSmpCallFunctionInterrupt();
      if (msg === PPC_MSG_RESCHEDULE) this.smp.schedulerIpi();
      return null;
    },
    release: (frame) => {
      this.freeFrames.push(frame);
    },
  };

  constructor(
    @inject(MachineToken) private readonly machine: Machine,
    @inject(InterconnectToken) private readonly wires: Interconnect,
    @inject(SmpHandlersToken) private readonly smp: SmpHandlers,
    @inject(TraceToken) private readonly trace: TraceSink,
    @inject(ArchOptionsToken) options: ArchOptionValues,
  ) {
    this.platform = options.platform as PpcPlatform;
    this.route = this.platform === "mpic-2008" ? null : CAUSE_IPI[this.platform];
    this.xicsController = this.route?.remote === "xics-mfrr" || this.route?.remote === "h-ipi";
    this.esb = this.route?.remote === "xive-esb" ? new Uint8Array(machine.nrCpus) : null;
    this.words = new Uint8Array(machine.nrCpus);
    this.doorbellSendNs = options.doorbellSendNs as number;
    this.doorbellLatencyNs = options.doorbellLatencyNs as number;
    this.globalDoorbellLatencyNs = options.globalDoorbellLatencyNs as number;
    this.hcallNs = options.hcallNs as number;
    this.xicsSendNs = options.xicsSendNs as number;
    this.xicsLatencyNs = options.xicsLatencyNs as number;
    this.xiveSendNs = options.xiveSendNs as number;
    this.xiveLatencyNs = options.xiveLatencyNs as number;
    this.mpicSendNs = options.mpicSendNs as number;
    const powernv = this.platform === "powernv-power8" || this.platform === "powernv-power9";
    if (powernv || this.esb !== null) {
      // 6.1 powernv (pnv_cpu_offline_self): an offline thread clears whatever IPI it had pending
      // when it went down and every one that wakes it while it is offline (XIRR read, MFRR reset
      // and EOI; msgclr for a doorbell) without running the demux. XIVE (xive_teardown_cpu and
      // xive_setup_cpu_ipi): the CPU's IPI source is masked when it goes down and set up afresh,
      // PQ = 00, when it comes back. Either way it comes back with no IPI pending; the message
      // bytes stay set and ride on the next IPI. (A pseries doorbell or XICS IPI is kept.)
      const lines = powernv ? [LINE_CONTROLLER, LINE_DOORBELL] : [LINE_CONTROLLER];
      wires.onCpuBoot((cpu) => {
        if (this.esb !== null) this.esb[cpu] = 0;
        for (const line of lines)
          if (wires.isPending(cpu, line)) {
            wires.clearPending(cpu, line);
            this.offlineIpisCleared++;
          }
      });
    }
  }

  /** SMT threads per core (the machine topology's; cores are groups of consecutive CPU ids). */
  get threadsPerCore(): number {
    return this.machine.topology.threadsPerCore;
  }

  /** Are two CPUs SMT siblings in one core? */
  sameCore(a: number, b: number): boolean {
    return this.machine.topology.sameCore(a, b);
  }

  /** The message word of `cpu` (bit n = message n pending). */
  messageWord(cpu: number): number {
    return this.words[cpu];
  }

  /**
   * smp_muxed_ipi_message_pass: (full barrier,) set the message's byte (absorbed if already
   * set), cause the IPI (its own `sync` first). Returns the sender time it took.
   */
  private messagePass(cpu: number, msg: number): number {
    const bit = 1 << msg;
    this.messagesSent++;
    if ((this.words[cpu] & bit) !== 0) this.messagesAbsorbed++;
    this.words[cpu] |= bit;
    return this.causeIpi(cpu);
  }

  /** cause_ipi as the platform has it: returns the sender's cost. */
  private causeIpi(cpu: number): number {
    const route = this.route!;
    this.ipisCaused++;
    if (this.sameCore(this.machine.current, cpu)) {
      if (route.sibling === "doorbell") {
        // msgsnd (bare metal) / msgsndp (PowerVM): a directed doorbell inside the core.
        this.doorbells++;
        this.wires.raise(cpu, LINE_DOORBELL, this.doorbellSendNs + this.doorbellLatencyNs);
        return this.doorbellSendNs;
      }
      if (route.sibling === "msgsndp-trapped") {
        // KVM with XICS: msgsndp faults to the hypervisor, which emulates the doorbell.
        this.msgsndpTraps++;
        this.wires.raise(cpu, LINE_DOORBELL, this.hcallNs + this.doorbellLatencyNs);
        return this.hcallNs;
      }
    }
    switch (route.remote) {
      case "global-doorbell":
        // POWER9+ bare metal: msgsnd with the target's thread tag reaches any thread.
        this.globalDoorbells++;
        this.wires.raise(cpu, LINE_DOORBELL, this.doorbellSendNs + this.globalDoorbellLatencyNs);
        return this.doorbellSendNs;
      case "xics-mfrr":
        this.xicsWrites++;
        this.wires.raise(cpu, LINE_CONTROLLER, this.xicsSendNs + this.xicsLatencyNs);
        return this.xicsSendNs;
      case "xive-esb": {
        // The trigger store reaches the target's IPI source (ESB): with P clear it sets P and
        // sends the event; with P set (an event not yet EOIed) it only sets Q, which the EOI
        // turns into a new trigger (see `eoi` above).
        this.xiveTriggers++;
        const esb = this.esb!;
        if ((esb[cpu] & ESB_P) !== 0) {
          esb[cpu] |= ESB_Q;
          this.xiveTriggersQueued++;
          return this.xiveSendNs;
        }
        esb[cpu] = ESB_P;
        this.wires.raise(cpu, LINE_CONTROLLER, this.xiveSendNs + this.xiveLatencyNs);
        return this.xiveSendNs;
      }
      case "h-ipi":
        this.hIpiHcalls++;
        this.wires.raise(cpu, LINE_CONTROLLER, this.hcallNs + this.xicsLatencyNs);
        return this.hcallNs;
    }
  }

  /**
   * One MPIC IPI dispatch write on channel `msg` (2008) whose destination names `targets` (one
   * CPU, or every online CPU but the sender for MSG_ALL_BUT_SELF: an MPIC has at most 32 CPUs,
   * so one destination word holds them all). Returns the sender's cost.
   */
  private mpicSend(msg: number, targets: readonly number[]): number {
    for (const cpu of targets) {
      this.ipisCaused++;
      this.wires.raise(cpu, msg, this.mpicSendNs + this.xicsLatencyNs);
    }
    this.mpicWrites++;
    return this.mpicSendNs;
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
    this.oneTarget[0] = target;
    return this.mpicSend(msg, this.oneTarget);
  }

  /** No multicast: one message + one cause_ipi per target (2008 MPIC: MSG_ALL_BUT_SELF when it fits). */
  *sendCallFunctionIpiMask(mask: CpuMask): CpuCode<void> {
    const m = this.machine;
    const mpic = this.platform === "mpic-2008";
    if (mpic) {
      const self = m.current;
      const allButSelf =
        mask.weight() === m.onlineMask.weight() - 1 && mask.isSubsetOf(m.onlineMask) && !mask.test(self);
      if (allButSelf) {
        yield this.messagePass2008(MSG_ALL_BUT_SELF, MSG_2008_CALL_FUNCTION);
        return;
      }
    }
    // One target after the other, as the kernel's loop: target k's message is set and its IPI
    // caused once the sender has paid for the k targets before it (not all at the first instant).
    // 2008 MPIC: message_pass names one CPU (or MSG_ALL_BUT_SELF, above), so a partial mask is
    // one dispatch write per target too.
    for (let cpu = mask.first(); cpu < mask.nrCpuIds; cpu = mask.next(cpu)) {
      const ns = mpic
        ? this.messagePass2008(cpu, MSG_2008_CALL_FUNCTION)
        : this.messagePass(cpu, PPC_MSG_CALL_FUNCTION);
      if (!m.spendInline(ns)) yield ns;
    }
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

  /** PPC_MSG_TICK_BROADCAST (muxed platforms; mpic-2008 has no such message): for tests and scenarios. */
  *sendTickBroadcast(cpu: number): CpuCode<void> {
    this.muxedOnly("sendTickBroadcast");
    yield this.messagePass(cpu, PPC_MSG_TICK_BROADCAST);
  }

  /** PPC_MSG_NMI_IPI (muxed platforms; mpic-2008 has no such message): for tests and scenarios. */
  *sendNmiIpi(cpu: number): CpuCode<void> {
    this.muxedOnly("sendNmiIpi");
    yield this.messagePass(cpu, PPC_MSG_NMI_IPI);
  }

  /** Refuse a muxed-only message on the 2008 MPIC, whose four channels carry other messages. */
  private muxedOnly(what: string): void {
    if (this.platform === "mpic-2008")
      throw new InvalidArgumentError(
        `${what}: platform mpic-2008 has no such message (its MPIC channels are call function, reschedule, call-function-single and debugger break)`,
      );
  }

  /**
   * Acknowledge the source (counted once per interrupt, at no cost: 6.1's doorbell handler issues
   * only `msgsync` on POWER9 hypervisors; XICS reads XIRR and resets the MFRR before the demux and
   * EOIs after it, by hypercalls on pseries), then smp_ipi_demux: fetch-and-clear the word,
   * handle what was set, again while it is non-zero (a reused `DemuxFrame`); on the 2008 MPIC,
   * the channel's one message.
   */
  handleInterrupt(cpu: number, line: number): CpuCode<void> {
    if (this.platform === "mpic-2008") return this.handle2008(cpu, line);
    return (this.freeFrames.pop() ?? new DemuxFrame(this.demux)).reset(cpu, line);
  }

  private *handle2008(cpu: number, channel: number): CpuCode<void> {
    this.interrupts++;
    this.controllerEois++;
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
      globalDoorbells: this.globalDoorbells,
      msgsndpTraps: this.msgsndpTraps,
      xicsWrites: this.xicsWrites,
      xiveTriggers: this.xiveTriggers,
      hIpiHcalls: this.hIpiHcalls,
      mpicWrites: this.mpicWrites,
      ipisCaused: this.ipisCaused,
      msgAllButSelf: this.msgAllButSelf,
      messagesSent: this.messagesSent,
      messagesAbsorbed: this.messagesAbsorbed,
      demuxLoops: this.demuxLoops,
      interrupts: this.interrupts,
      doorbellAcks: this.doorbellAcks,
      controllerEois: this.controllerEois,
      offlineIpisCleared: this.offlineIpisCleared,
      mfrrResetWiped: this.mfrrResetWiped,
      xiveTriggersQueued: this.xiveTriggersQueued,
      xiveRetriggers: this.xiveRetriggers,
      acks: this.doorbellAcks + this.controllerEois,
      callFunctionMessages: this.handled[PPC_MSG_CALL_FUNCTION],
      rescheduleMessages: this.handled[PPC_MSG_RESCHEDULE],
      tickBroadcastMessages: this.handled[PPC_MSG_TICK_BROADCAST],
      nmiIpiMessages: this.handled[PPC_MSG_NMI_IPI],
    };
  }
}
