"use strict";
/**
 * An out-of-tree smpcall backend: RISC-V IPIs, written from PORTING.md alone and checked against
 * Linux 6.1 (arch/riscv/kernel/smp.c, sbi.c, drivers/clocksource/timer-clint.c).
 *
 *   npx smpcall run --arch ./examples/ports/riscv-sbi.js --cpus 64 --workload broadcast
 *   npx smpcall conform --arch ./examples/ports/riscv-sbi.js
 *
 * Send (6.1 send_ipi_mask / send_ipi_single): set the message bit (reschedule 0, call function 1)
 * in every target's per-CPU word first, then inject the IPI that raises each hart's supervisor
 * software interrupt (SSIP), by one of:
 *   ipi=sbi     the SBI IPI extension (v0.2+), what an S-mode 6.1 kernel always uses: one ecall
 *               into M-mode firmware names a base hart id and an XLEN-bit hart mask, so a
 *               cpumask costs one ecall per window of XLEN consecutive harts (a window's ecall is
 *               made when the walk reaches a hart beyond it, or the mask's end);
 *   ipi=aclint  one MMIO write per hart, as 6.1's CLINT driver does for an M-mode (NOMMU) kernel;
 *   ipi=imsic   one AIA IMSIC MSI write per hart. NOT a 6.1 path: 6.1 has no IMSIC driver.
 * The sender pays one step per ecall or write and raises that write's harts when it is done (only
 * the delivery latency is jittered); interrupts stay on in between, so the sender can take an IPI
 * between two ecalls, as 6.1's loop can.
 * Receive (6.1 handle_IPI): clear SSIP (the acknowledgement), then fetch-and-clear the message
 * word and handle each bit set (reschedule before call function), again until the word is 0.
 * Bits set twice before the fetch coalesce. Hart id = CPU id.
 * Offline: a secondary's smp_callin clears SSIP when it comes up, so an IPI raised at an offline
 * CPU is never taken (offlineDelivery "dropped"); its message bit stays set and is handled with
 * the next IPI, as in 6.1.
 * Not modelled (see examples/README.md): SBI v0.1's single ecall (harts >= XLEN unreachable), the
 * ecall's error return, the costs of the SSIP clear and of the word's xchg, the other messages
 * (CPU stop, crash stop, irq work, timer), the /proc/interrupts counts per message. 6.1 RISC-V
 * has no ipi_raise/ipi_entry/ipi_exit tracepoints, so a kernel profile's ftrace file holds none.
 */
require("reflect-metadata"); // tsyringe needs the metadata polyfill loaded first
const { instanceCachingFactory } = require("tsyringe");
const {
  ArchIpiToken,
  ArchOptionsToken,
  InterconnectToken,
  MachineToken,
  SmpHandlersToken,
  TraceToken,
} = require("@smpcall/core");

const IPI_RESCHEDULE = 0;
const IPI_CALL_FUNC = 1;
const LINE_SSIP = 0;

class RiscvIpi {
  constructor(machine, wires, smp, trace, options) {
    this.machine = machine;
    this.wires = wires;
    this.smp = smp;
    this.trace = trace;
    this.mode = options.ipi;
    this.xlen = Number(options.xlen);
    this.ecallNs = options.ecallNs;
    this.mmioNs = options.mmioNs;
    this.latencyNs = options.latencyNs;
    this.bits = new Uint8Array(machine.nrCpus);
    this.stats = {
      ecalls: 0,
      sswiWrites: 0,
      imsicWrites: 0,
      raises: 0,
      messagesAbsorbed: 0,
      acks: 0,
      interrupts: 0,
      demuxLoops: 0,
      bootClears: 0,
    };
    // smp_callin -> riscv_clear_ipi: a CPU coming up clears its SSIP (not its message word).
    wires.onCpuBoot((cpu) => {
      if (!wires.isPending(cpu, LINE_SSIP)) return;
      wires.clearPending(cpu, LINE_SSIP);
      this.stats.bootClears++;
    });
  }

  /** Set `msg` in `cpu`'s message word (set_bit); a bit already set absorbs the message. */
  setMessage(cpu, msg) {
    const bit = 1 << msg;
    if (this.bits[cpu] & bit) this.stats.messagesAbsorbed++;
    this.bits[cpu] |= bit;
  }

  /** Raise `cpu`'s SSIP: its ecall or write is done, only the delivery latency is left. */
  trigger(cpu) {
    this.wires.raise(cpu, LINE_SSIP, this.latencyNs);
    this.stats.raises++;
  }

  /** One ecall or one MMIO write, paid on the sender (a step: interrupts may come in after it). */
  pay() {
    if (this.mode === "sbi") {
      this.stats.ecalls++;
      return this.ecallNs;
    }
    if (this.mode === "aclint") this.stats.sswiWrites++;
    else this.stats.imsicWrites++;
    return this.mmioNs;
  }

  /** send_ipi_mask: every target's message bit, then one ecall per XLEN-hart window or one write per hart. */
  *sendMany(mask, msg) {
    const n = mask.nrCpuIds;
    for (let c = mask.first(); c < n; c = mask.next(c)) this.setMessage(c, msg);
    if (this.mode !== "sbi") {
      for (let c = mask.first(); c < n; c = mask.next(c)) {
        yield this.pay();
        this.trigger(c);
      }
      return;
    }
    // __sbi_send_ipi_v02: a window starts at the first hart not yet covered; the walk sends it
    // when it meets a hart XLEN or more above that base, or runs off the mask's end.
    let base = mask.first();
    for (let c = base; base < n; c = mask.next(c)) {
      if (c < n && c < base + this.xlen) continue;
      yield this.pay();
      for (let t = base; t < c; t = mask.next(t)) this.trigger(t);
      base = c;
    }
  }

  /** send_ipi_single: the message bit, then one ecall or write. */
  *sendOne(cpu, msg) {
    this.setMessage(cpu, msg);
    yield this.pay();
    this.trigger(cpu);
  }

  sendCallFunctionIpiMask(mask) {
    return this.sendMany(mask, IPI_CALL_FUNC);
  }

  sendCallFunctionSingleIpi(cpu) {
    return this.sendOne(cpu, IPI_CALL_FUNC);
  }

  sendRescheduleIpi(cpu) {
    return this.sendOne(cpu, IPI_RESCHEDULE);
  }

  *handleInterrupt(cpu) {
    this.stats.interrupts++;
    this.stats.acks++; // csr_clear(CSR_IP, IE_SIE): SSIP cleared before the demux
    do {
      const all = this.bits[cpu];
      this.bits[cpu] = 0;
      this.stats.demuxLoops++;
      if (this.trace.enabled)
        this.trace.emit(this.machine.now, cpu, this.machine.cpus[cpu], "riscv_ipi_mux", { bits: all });
      if (all & (1 << IPI_RESCHEDULE)) this.smp.schedulerIpi();
      if (all & (1 << IPI_CALL_FUNC)) yield* this.smp.genericSmpCallFunctionInterrupt();
    } while (this.bits[cpu] !== 0);
  }

  lineName() {
    return "IPI (supervisor software interrupt)";
  }

  statistics() {
    return { ...this.stats };
  }
}

/** @type {import("@smpcall/core").ArchDescriptor} */
const descriptor = {
  name: "riscv",
  description:
    "RISC-V IPIs (6.1): SBI ecall per XLEN-hart window, CLINT (M-mode) or IMSIC (not 6.1) writes per hart; muxed message bits over SSIP",
  options: {
    ipi: {
      type: "enum",
      choices: ["sbi", "aclint", "imsic"],
      default: "sbi",
      description:
        "how an IPI is sent: SBI ecall per hart-mask window (6.1 S-mode), CLINT write per hart (6.1 M-mode), or IMSIC MSI write per hart (not in 6.1)",
    },
    xlen: {
      type: "enum",
      choices: ["64", "32"],
      default: "64",
      description: "SBI hart-mask width (RV64: 64 harts per ecall)",
    },
    ecallNs: {
      type: "integer",
      min: 0,
      max: 100000,
      default: 1500,
      description: "an SBI ecall into M-mode firmware, ns (1-3 us)",
    },
    mmioNs: {
      type: "integer",
      min: 0,
      max: 100000,
      default: 100,
      description: "a CLINT/ACLINT or IMSIC write, ns",
    },
    latencyNs: { type: "integer", min: 0, max: 1000000, default: 1000, description: "delivery latency, ns" },
  },
  // 6.1 RISC-V has none of the generic IPI tracepoints (ipi_raise, ipi_entry, ipi_exit).
  tracepoints: [],
  // 6.1 has no TIF_POLLING_NRFLAG on this architecture: a polling idle CPU (the nohlt boot
  // option) does not say so, so every call to it sends an IPI; no MWAIT-like idle either.
  idleModes: ["halt", "poll"],
  idlePollingFlag: false,
  capabilities: {
    multicast: true,
    transientFaults: false,
    permanentFaults: false,
    offlineDelivery: "dropped", // smp_callin clears SSIP
    ackStatistic: "acks",
    raiseStatistic: "raises",
    minDeliveryLatencyNs: (o) => o.latencyNs, // the ecall / MMIO write, then latencyNs
  },
  register(container) {
    container.register(ArchIpiToken, {
      useFactory: instanceCachingFactory(
        (c) =>
          new RiscvIpi(
            c.resolve(MachineToken),
            c.resolve(InterconnectToken),
            c.resolve(SmpHandlersToken),
            c.resolve(TraceToken),
            c.resolve(ArchOptionsToken),
          ),
      ),
    });
  },
};

module.exports = { descriptor, RiscvIpi };
