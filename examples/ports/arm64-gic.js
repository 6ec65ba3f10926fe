"use strict";
// arm64 cross-calls over GICv3 SGIs, an out-of-tree smpcall backend written from PORTING.md and
// checked against Linux 6.1 (arch/arm64/kernel/smp.c, drivers/irqchip/irq-gic-v3.c).
//
// Hardware model (what it leaves out: examples/README.md):
// - Send (6.1 gic_ipi_send_mask): a dsb, then one write of ICC_SGI1R_EL1 per run of mask CPUs in
//   one affinity cluster (the same MPIDR but for Aff0's low 4 bits): the write names the SGI
//   INTID, the cluster (Aff3.Aff2.Aff1, range selector) and a 16-bit target list of Aff0 values;
//   then an isb. CPU id -> cluster floor(id / aff0PerCluster), Aff0 id % aff0PerCluster. 16 is the
//   densest MPIDR layout; DynamIQ/Neoverse cores put each core in its own Aff1 (aff0PerCluster=1:
//   one write per target). Each write is one step, interrupts on between them (6.1's loop runs
//   with interrupts enabled), and its targets are raised when it is done, only the latency
//   jittered.
// - IRM (mode=irm): one write with the Interrupt Routing Mode bit reaches every PE but the writer.
//   6.1 NEVER uses it: mode=irm is what a kernel could do, not what 6.1 does.
// - SGI numbers as 6.1 arm64 uses them: reschedule 0, call function 1 (stop 2, crash stop 3,
//   timer 4, irq work 5, wake-up 6 are not sent here). Linux has no separate call-function-single
//   SGI: arch_send_call_function_single_ipi() also raises SGI 1, whose handler flushes the queue.
// - Receive (gic_handle_irq, handle_percpu_devid_irq): read ICC_IAR1_EL1 (acknowledge; returns
//   the INTID), then, with eoi=split (a kernel entered at EL2, so 6.1 uses EOImode 1), write
//   ICC_EOIR1_EL1 (priority drop) before the handler and ICC_DIR_EL1 (deactivate) after it; with
//   eoi=combined (entered at EL1, e.g. a guest), one ICC_EOIR1_EL1 write after the handler.
// - A pending SGI that is raised again stays one pending SGI: the machine's line merges it (and
//   counts the merges itself). An SGI raised at an offline CPU stays pending and is taken when
//   the CPU is back and ipi_setup enables its SGIs again (offlineDelivery "pending"); firmware
//   that powers the redistributor down may lose it instead (implementation defined).
// Not modelled (see examples/README.md): GICv2 (GICD_SGIR, 8-bit CPU list, at most 8 CPUs),
// pseudo-NMIs, the isb costs inside the receive path, the kernel's other IPIs. Tracepoints: as
// 6.1, one ipi_raise per smp_cross_call naming the whole mask, before the dsb (arch_ipi_raise,
// exported as ipi_raise); the machine's own per-target ipi_raise records stay in the Chrome
// trace and out of a kernel profile's ftrace file. Costs are estimates and overridable as options.
require("reflect-metadata"); // tsyringe needs it; the CLI loads it, a plain require() does not
const {
  ArchIpiToken,
  MachineToken,
  InterconnectToken,
  SmpHandlersToken,
  TraceToken,
  ArchOptionsToken,
  ARCH_IPI_RAISE,
} = require("@smpcall/core");
const { instanceCachingFactory } = require("tsyringe");

const SGI_RESCHEDULE = 0;
const SGI_CALL_FUNC = 1;
const LINE_NAMES = [
  "Rescheduling interrupts",
  "Function call interrupts",
  "CPU stop interrupts",
  "CPU stop (for crash dump) interrupts",
  "Timer broadcast interrupts",
  "IRQ work interrupts",
  "CPU wake-up interrupts",
];

class Arm64GicIpi {
  constructor(machine, wires, smp, trace, options) {
    this.machine = machine;
    this.wires = wires;
    this.smp = smp;
    this.trace = trace;
    this.irm = options.mode === "irm";
    this.splitEoi = options.eoi === "split";
    this.aff0PerCluster = options.aff0PerCluster;
    this.sysregNs = options.sysregNs;
    this.barrierNs = options.barrierNs;
    this.latencyNs = options.latencyNs;
    this.sgi1rWrites = 0;
    this.irmWrites = 0;
    this.sgisRaised = 0;
    this.iarReads = 0;
    this.eoiWrites = 0;
    this.dirWrites = 0;
  }

  /** The affinity cluster of `cpu` (its MPIDR without Aff0). */
  clusterOf(cpu) {
    return Math.floor(cpu / this.aff0PerCluster);
  }

  /** Raise `intid` at `cpu`: its SGI1R write is done, only the delivery latency is left. */
  raise(cpu, intid) {
    this.wires.raise(cpu, intid, this.latencyNs);
    this.sgisRaised++;
  }

  /** Count and trace one ICC_SGI1R_EL1 write; returns its cost, which the caller yields. */
  writeSgi1r(intid, cluster, targets, irm) {
    this.sgi1rWrites++;
    if (irm) this.irmWrites++;
    if (this.trace.enabled) {
      const self = this.machine.current;
      this.trace.emit(this.machine.now, self, this.machine.cpus[self], "gic_sgi1r_write", {
        intid,
        irm: irm ? 1 : 0,
        aff3: (cluster >>> 16) & 0xff,
        aff2: (cluster >>> 8) & 0xff,
        aff1: cluster & 0xff,
        targetList: targets,
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

  /**
   * smp_cross_call's tracepoint: one ipi_raise per send naming the whole mask, before the dsb
   * (the machine's own ipi_raise records, one per target as it is raised, stay smpcall's).
   */
  traceCrossCall(mask, cpu, intid) {
    if (!this.trace.enabled) return;
    const self = this.machine.current;
    this.trace.emit(this.machine.now, self, this.machine.cpus[self], ARCH_IPI_RAISE, {
      target_cpus: mask === null ? String(cpu) : mask.toString(),
      reason: LINE_NAMES[intid],
    });
  }

  /** gic_ipi_send_mask: dsb, one write per cluster run of the mask (or one IRM write), isb. */
  *sendMask(mask, intid) {
    const n = mask.nrCpuIds;
    this.traceCrossCall(mask, -1, intid);
    yield this.barrierNs; // dsb(ishst): the queued calls are visible before any SGI
    if (this.irm && this.coversAllButSelf(mask)) {
      yield this.writeSgi1r(intid, 0, 0, true);
      for (let c = mask.first(); c < n; c = mask.next(c)) this.raise(c, intid);
    } else {
      // A run: the mask's CPUs from `first` on while they share its cluster.
      let first = mask.first();
      while (first < n) {
        const cluster = this.clusterOf(first);
        let targets = 0;
        let c = first;
        for (; c < n && this.clusterOf(c) === cluster; c = mask.next(c))
          targets |= 1 << (c % this.aff0PerCluster);
        yield this.writeSgi1r(intid, cluster, targets, false);
        for (let t = first; t < c; t = mask.next(t)) this.raise(t, intid);
        first = c;
      }
    }
    yield this.barrierNs; // isb
  }

  /** The same path for one CPU (smp_cross_call with cpumask_of(cpu)). */
  *sendOne(cpu, intid) {
    this.traceCrossCall(null, cpu, intid);
    yield this.barrierNs; // dsb
    yield this.writeSgi1r(intid, this.clusterOf(cpu), 1 << (cpu % this.aff0PerCluster), false);
    this.raise(cpu, intid);
    yield this.barrierNs; // isb
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
    if (this.splitEoi) {
      this.eoiWrites++; // gic_complete_ack: ICC_EOIR1_EL1, priority drop only
      yield this.sysregNs;
    }
    if (intid === SGI_CALL_FUNC) {
      yield* this.smp.genericSmpCallFunctionInterrupt();
    } else if (intid === SGI_RESCHEDULE) {
      this.smp.schedulerIpi(); // a plain call, not a generator
    }
    if (this.splitEoi)
      this.dirWrites++; // gic_eoimode1_eoi_irq: ICC_DIR_EL1, deactivate
    else this.eoiWrites++; // gic_eoi_irq: ICC_EOIR1_EL1, priority drop + deactivate
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
      dirWrites: this.dirWrites,
    };
  }
}

const descriptor = {
  name: "arm64-gic",
  description:
    "arm64 GICv3 SGIs (6.1): one ICC_SGI1R write per affinity cluster the mask touches; IAR, EOIR, DIR on receive",
  options: {
    mode: {
      type: "enum",
      choices: ["targeted", "irm"],
      default: "targeted",
      description:
        "targeted: one SGI1R write per cluster (as 6.1); irm: one IRM write when the mask is all-but-self (6.1 never does)",
    },
    aff0PerCluster: {
      type: "integer",
      default: 16,
      min: 1,
      max: 16,
      description:
        "CPUs per affinity cluster (Aff0 values one SGI1R write can name): 16 densest MPIDR layout, 1 one core per Aff1 (Neoverse)",
    },
    eoi: {
      type: "enum",
      choices: ["split", "combined"],
      default: "split",
      description:
        "split: EOImode 1, EOIR before the handler and DIR after (6.1 entered at EL2); combined: one EOIR after (entered at EL1)",
    },
    sysregNs: {
      type: "integer",
      default: 30,
      min: 1,
      max: 10000,
      description: "cost of one ICC_* system-register access (SGI1R write, IAR read, EOIR or DIR write), ns",
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
  // 6.1 arm64 emits ipi_raise (once per smp_cross_call, with the mask: this port's own
  // arch_ipi_raise record, printed as ipi_raise in a kernel profile's ftrace export; the
  // machine's per-target ipi_raise records are left out of it), ipi_entry and ipi_exit.
  tracepoints: [ARCH_IPI_RAISE, "ipi_entry", "ipi_exit"],
  // 6.1 has no TIF_POLLING_NRFLAG on this architecture: a polling idle CPU (the nohlt boot
  // option) does not say so, so every call to it sends an IPI; no MWAIT-like idle either.
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
