"use strict";
// arm64 cross-calls over GICv3 SGIs, an out-of-tree smpcall backend written from PORTING.md.
//
// Hardware model (see docs/arch-ipi.md, arm64):
// - Send: one write of ICC_SGI1R_EL1 names an SGI INTID, one affinity cluster (Aff3.Aff2.Aff1)
//   and a 16-bit target list of Aff0 values, so a cpumask costs one write per cluster of 16 CPUs
//   it touches (CPU id -> cluster floor(id/16), Aff0 id%16). The writes are preceded by a barrier
//   (dsb) and followed by an isb. With IRM=1 one write reaches every PE but the writer.
// - SGI numbers as Linux arm64 uses them: reschedule = SGI 0, call function = SGI 1. Linux has no
//   separate call-function-single SGI: arch_send_call_function_single_ipi() also raises SGI 1,
//   whose handler flushes the CPU's call queue.
// - Receive: read ICC_IAR1_EL1 (acknowledge; returns the INTID), handle, write ICC_EOIR1_EL1.
// - A pending SGI that is raised again stays one pending SGI: the machine's line merges it (and
//   counts the merges itself).
// Costs are estimates and overridable as options.
require("reflect-metadata"); // tsyringe needs it; the CLI loads it, a plain require() does not
const {
  ArchIpiToken,
  MachineToken,
  InterconnectToken,
  SmpHandlersToken,
  TraceToken,
  ArchOptionsToken,
} = require("@smpcall/core");
const { instanceCachingFactory } = require("tsyringe");

const SGI_RESCHEDULE = 0;
const SGI_CALL_FUNC = 1;
const AFF0_PER_CLUSTER = 16; // width of the ICC_SGI1R target list
const LINE_NAMES = [
  "Rescheduling interrupts",
  "Function call interrupts",
  "CPU stop interrupts",
  "CPU stop (for crash dump) interrupts",
  "Timer broadcast interrupts",
  "IRQ work interrupts",
];

class Arm64GicIpi {
  constructor(machine, wires, smp, trace, options) {
    this.machine = machine;
    this.wires = wires;
    this.smp = smp;
    this.trace = trace;
    this.irm = options.mode === "irm";
    this.sysregNs = options.sysregNs;
    this.barrierNs = options.barrierNs;
    this.latencyNs = options.latencyNs;
    this.sgi1rWrites = 0;
    this.irmWrites = 0;
    this.sgisRaised = 0;
    this.iarReads = 0;
    this.eoiWrites = 0;
  }

  // Raise one SGI at one CPU, `delayNs` after the write that names it.
  raise(cpu, intid, delayNs) {
    this.wires.raise(cpu, intid, delayNs);
    this.sgisRaised++;
  }

  // One ICC_SGI1R_EL1 write for cluster `cluster` with target list `targets` (or IRM).
  // Returns the cost of the write.
  writeSgi1r(self, intid, cluster, targets, irm, atNs) {
    this.sgi1rWrites++;
    if (irm) this.irmWrites++;
    if (this.trace.enabled) {
      this.trace.emit(this.machine.now, self, this.machine.cpus[self], "gic_sgi1r_write", {
        intid,
        irm: irm ? 1 : 0,
        aff3: (cluster >>> 16) & 0xff,
        aff2: (cluster >>> 8) & 0xff,
        aff1: cluster & 0xff,
        targetList: targets,
        offsetNs: atNs,
      });
    }
    return this.sysregNs;
  }

  // IRM may be used when no CPU is offline and `mask` is every CPU but the sender (the core
  // never puts the sender or an offline CPU in the mask, so counting is enough).
  coversAllButSelf(mask) {
    const m = this.machine;
    return m.onlineMask.weight() === m.nrCpus && mask.weight() === m.nrCpus - 1;
  }

  *sendMask(mask, intid) {
    const self = this.machine.current; // the sending CPU's id
    let cost = this.barrierNs; // dsb: make the queued calls visible before the SGI
    if (this.irm && this.coversAllButSelf(mask)) {
      cost += this.writeSgi1r(self, intid, 0, 0, true, cost);
      for (let c = 0; c < this.machine.nrCpus; c++)
        if (c !== self) this.raise(c, intid, cost + this.latencyNs);
    } else {
      let cluster = -1;
      let targets = 0;
      for (let c = mask.first(); c < mask.nrCpuIds; c = mask.next(c)) {
        const cl = Math.floor(c / AFF0_PER_CLUSTER);
        if (cl !== cluster) {
          if (targets !== 0) cost += this.writeSgi1r(self, intid, cluster, targets, false, cost);
          cluster = cl;
          targets = 0;
        }
        targets |= 1 << (c % AFF0_PER_CLUSTER);
        // The SGI leaves when this cluster's write is done.
        this.raise(c, intid, cost + this.sysregNs + this.latencyNs);
      }
      if (targets !== 0) cost += this.writeSgi1r(self, intid, cluster, targets, false, cost);
    }
    yield cost + this.barrierNs; // isb
  }

  *sendOne(cpu, intid) {
    const self = this.machine.current; // the sending CPU's id
    const cost =
      this.barrierNs +
      this.writeSgi1r(
        self,
        intid,
        Math.floor(cpu / AFF0_PER_CLUSTER),
        1 << (cpu % AFF0_PER_CLUSTER),
        false,
        this.barrierNs,
      );
    this.raise(cpu, intid, cost + this.latencyNs);
    yield cost + this.barrierNs;
  }

  sendCallFunctionIpiMask(mask) {
    return this.sendMask(mask, SGI_CALL_FUNC);
  }
  sendCallFunctionSingleIpi(cpu) {
    return this.sendOne(cpu, SGI_CALL_FUNC);
  }
  sendRescheduleIpi(cpu) {
    return this.sendOne(cpu, SGI_RESCHEDULE);
  }

  *handleInterrupt(cpu, line) {
    const intid = line; // ICC_IAR1_EL1 returns the INTID of the SGI being taken
    this.iarReads++;
    yield this.sysregNs;
    if (intid === SGI_CALL_FUNC) {
      yield* this.smp.genericSmpCallFunctionInterrupt();
    } else if (intid === SGI_RESCHEDULE) {
      this.smp.schedulerIpi(); // a plain call, not a generator
    }
    this.eoiWrites++; // ICC_EOIR1_EL1: priority drop + deactivate
    yield this.sysregNs;
  }

  lineName(line) {
    return line < LINE_NAMES.length ? LINE_NAMES[line] : `SGI${line}`;
  }

  statistics() {
    return {
      sgi1rWrites: this.sgi1rWrites,
      irmWrites: this.irmWrites,
      sgisRaised: this.sgisRaised,
      iarReads: this.iarReads,
      eoiWrites: this.eoiWrites,
    };
  }
}

const descriptor = {
  name: "arm64-gic",
  description: "arm64 GICv3 SGIs: one ICC_SGI1R write per 16-CPU affinity cluster, IAR/EOIR on receive",
  options: {
    mode: {
      type: "enum",
      choices: ["targeted", "irm"],
      default: "targeted",
      description:
        "targeted: one SGI1R write per cluster (as Linux); irm: one IRM write when the mask is all-but-self",
    },
    sysregNs: {
      type: "integer",
      default: 30,
      min: 1,
      max: 10000,
      description: "cost of one ICC_* system-register access (SGI1R write, IAR read, EOIR write), ns",
    },
    barrierNs: {
      type: "integer",
      default: 20,
      min: 0,
      max: 10000,
      description: "cost of the dsb before / isb after the writes, ns",
    },
    latencyNs: {
      type: "integer",
      default: 400,
      min: 0,
      max: 100000,
      description: "SGI delivery latency from write to target, ns",
    },
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
    ackStatistic: "iarReads",
    raiseStatistic: "sgisRaised",
    minDeliveryLatencyNs: (o) => o.latencyNs, // the SGI write's cost, then latencyNs
  },
  register(container) {
    container.register(ArchIpiToken, {
      useFactory: instanceCachingFactory(
        (c) =>
          new Arm64GicIpi(
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

module.exports = { descriptor };
