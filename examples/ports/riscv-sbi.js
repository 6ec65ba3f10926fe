"use strict";
/**
 * An out-of-tree smpcall backend: RISC-V IPIs, written from PORTING.md alone.
 *
 *   npx smpcall run --arch ./examples/ports/riscv-sbi.js --cpus 64 --workload broadcast
 *   npx smpcall conform --arch ./examples/ports/riscv-sbi.js
 *
 * Send: Linux's IPI mux keeps per-CPU message bits (reschedule 0, call function 1); a send sets
 * the bit and triggers the hart's supervisor software interrupt (SSIP) by one of:
 *   ipi=sbi     the SBI IPI extension: one ecall into M-mode firmware names a base hart id and
 *               an XLEN-bit hart mask, so a cpumask costs one ecall per window of XLEN harts;
 *   ipi=aclint  an ACLINT SSWI MMIO write per hart (no firmware);
 *   ipi=imsic   an AIA IMSIC MSI write of the interrupt id into each hart's file.
 * Receive: clear SSIP (the acknowledgement), then demux: fetch-and-clear the message bits,
 * handle each set one, again while bits are set. Bits set twice before the demux coalesce.
 * Hart id = CPU id.
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
    };
  }

  /** Set `msg` for `cpu` and trigger its SSIP `afterNs` from now. */
  post(cpu, msg, afterNs) {
    const bit = 1 << msg;
    if (this.bits[cpu] & bit) this.stats.messagesAbsorbed++;
    this.bits[cpu] |= bit;
    this.wires.raise(cpu, LINE_SSIP, afterNs + this.latencyNs);
    this.stats.raises++;
  }

  /** Send `msg` to every CPU of `mask`; returns the sender's cost (ns). */
  sendMany(mask, msg) {
    const n = mask.nrCpuIds;
    let ns = 0;
    if (this.mode === "sbi") {
      // One ecall per window of XLEN consecutive hart ids, starting at the first hart not yet covered.
      let base = -1;
      for (let c = mask.first(); c < n; c = mask.next(c)) {
        if (base < 0 || c >= base + this.xlen) {
          base = c;
          ns += this.ecallNs;
          this.stats.ecalls++;
        }
        this.post(c, msg, ns);
      }
      return ns;
    }
    for (let c = mask.first(); c < n; c = mask.next(c)) {
      ns += this.mmioNs;
      if (this.mode === "aclint") this.stats.sswiWrites++;
      else this.stats.imsicWrites++;
      this.post(c, msg, ns);
    }
    return ns;
  }

  sendOne(cpu, msg) {
    let ns;
    if (this.mode === "sbi") {
      ns = this.ecallNs;
      this.stats.ecalls++;
    } else {
      ns = this.mmioNs;
      if (this.mode === "aclint") this.stats.sswiWrites++;
      else this.stats.imsicWrites++;
    }
    this.post(cpu, msg, ns);
    return ns;
  }

  *sendCallFunctionIpiMask(mask) {
    yield this.sendMany(mask, IPI_CALL_FUNC);
  }

  *sendCallFunctionSingleIpi(cpu) {
    yield this.sendOne(cpu, IPI_CALL_FUNC);
  }

  *sendRescheduleIpi(cpu) {
    yield this.sendOne(cpu, IPI_RESCHEDULE);
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
    "RISC-V IPIs: SBI ecall per XLEN-hart window, ACLINT SSWI or AIA IMSIC writes per hart; muxed message bits over SSIP",
  options: {
    ipi: {
      type: "enum",
      choices: ["sbi", "aclint", "imsic"],
      default: "sbi",
      description: "how an IPI is sent: SBI ecall (hart-mask windows), ACLINT SSWI write, or IMSIC MSI write",
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
      description: "an ACLINT SSWI or IMSIC write, ns",
    },
    latencyNs: { type: "integer", min: 0, max: 1000000, default: 1000, description: "delivery latency, ns" },
  },
  // 6.1 has no TIF_POLLING_NRFLAG on this architecture: an idle CPU never polls, so every call
  // to it sends an IPI; no MWAIT-like idle either.
  idleModes: ["halt", "poll"],
  idlePollingFlag: false,
  capabilities: {
    multicast: true,
    transientFaults: false,
    permanentFaults: false,
    offlineDelivery: "pending",
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
