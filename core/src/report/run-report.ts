import { archLabel } from "../arch/loader";
import { UserCodeError, describeThrown, describeValue } from "../errors";
import type { ArchStatistics } from "../arch/arch-ipi";
import type { RunOutcome } from "../machine/machine";
import type { RunProblem } from "../machine/problems";
import type { StuckCsdReport } from "../kernel/csd-watchdog";
import type { WarningRecord } from "../kernel/warnings";
import type { SmpSystem } from "../system";

/** One row of the per-CPU table. */
export interface CpuReportRow {
  cpu: number;
  online: boolean;
  callbacks: number;
  irqs: number;
  ipisSent: number;
  raisesMerged: number;
  busyNs: number;
  spinNs: number;
}

/** Everything a run produced, as plain data (what `--json` prints). */
export interface RunReport {
  config: {
    arch: string;
    archOptions: Record<string, string | number | boolean>;
    cpus: number;
    seed: number;
    workload: string;
    ops: number;
    idle: string;
    /** The kernel profile (`6.1`, `mainline`), with `+lockdep` when lockdep is on. */
    kernel: string;
    topology: string;
    /** The memory model when not `sc`, or when barriers were dropped (e.g. `lkmm, dropped csd_unlock:release`). */
    memory?: string;
  };
  outcome: { status: RunOutcome["status"]; simTimeNs: number; events: number };
  counts: {
    callsIssued: number;
    csdsQueued: number;
    callbacksRun: number;
    callbacksLocal: number;
    /** IPIs the core requested of the backend: the CPUs its single and mask sends named. */
    ipisSent: number;
    /** Reschedule IPIs the core requested (smp_send_reschedule, wake_up_all_idle_cpus). */
    rescheduleIpis: number;
    /** IPIs the CSD lock-wait watchdog re-sent straight through the arch (not in `ipisSent`). */
    watchdogResends: number;
    /**
     * Hardware signals the backend reports (its `signalStatistic`, else its `raiseStatistic`), or
     * null when it declares neither.
     */
    hardwareSignals: number | null;
    /** The backend statistic `hardwareSignals` was read from, or null. */
    hardwareSignalStatistic: string | null;
    ipiSingleSends: number;
    ipiMaskSends: number;
    ipisSaved: number;
    idlePollWakeups: number;
    interruptsTaken: number;
    interruptsMerged: number;
    enxio: number;
    ebusy: number;
    /** Call-queue entries by type (kernel-smp.md §1: the queue carries all four). */
    queueEntries: QueueEntryCounts;
    /** Of those, the adds that found the queue non-empty (no IPI needed), by type. */
    queueEntriesWithoutIpi: QueueEntryCounts;
    /** irq_work run from the queue; remote wake-ups activated, in how many batches. */
    irqWorkRun: number;
    ttwuActivated: number;
    ttwuBatches: number;
  };
  latencyNs: { samples: number; p50: number; p99: number; max: number; mean: number };
  perCpu: CpuReportRow[];
  arch: ArchStatistics;
  warnings: WarningRecord[];
  problems: RunProblem[];
  stuckCsds: StuckCsdReport[];
}

/** Counts per call-queue entry type. */
export interface QueueEntryCounts {
  async: number;
  sync: number;
  irqWork: number;
  ttwu: number;
}

function entryCounts(a: Float64Array): QueueEntryCounts {
  return { async: a[0], sync: a[1], irqWork: a[2], ttwu: a[3] };
}

/** Collect a report from a system after a run. */
export function buildRunReport(
  system: SmpSystem,
  outcome: RunOutcome,
  meta: { workload: string; ops: number; idle?: string },
): RunReport {
  const m = system.machine;
  const st = system.kernel.stats;
  const perCpu: CpuReportRow[] = m.cpus.map((c) => ({
    cpu: c.id,
    online: c.online,
    callbacks: st.callbacksOn[c.id],
    irqs: c.counters.irqsTaken,
    ipisSent: st.ipisFrom[c.id],
    raisesMerged: c.counters.raisesMerged,
    // A step's cost is counted when it starts: a run stopped mid-step counts only what elapsed.
    busyNs: Math.round(c.counters.busyNs - m.unelapsedStepNs(c.id)),
    // ... and a wait is counted when it ends: a run stopped with CPUs spinning adds their last waits.
    spinNs: Math.round(c.counters.spinNs + m.unendedSpinNs(c.id)),
  }));
  const lat = st.latency;
  const arch = archStatistics(system);
  const caps = system.descriptor.capabilities;
  const signalKey = [caps.signalStatistic, caps.raiseStatistic].find(
    (k) => k !== undefined && typeof arch[k] === "number",
  );
  return {
    config: {
      arch: system.descriptor.name,
      archOptions: { ...system.archOptions },
      cpus: m.nrCpus,
      seed: m.seed,
      workload: meta.workload,
      ops: meta.ops,
      idle: meta.idle ?? "halt",
      kernel: `${system.kernel.profile.name}${system.kernel.lockdep ? "+lockdep" : ""}`,
      topology: m.topology.describe(),
      ...memoryConfig(system),
    },
    outcome: { status: outcome.status, simTimeNs: Math.round(outcome.timeNs), events: m.eventsDispatched },
    counts: {
      callsIssued: st.callsIssued,
      csdsQueued: st.csdsQueued,
      callbacksRun: st.callbacksRun,
      callbacksLocal: st.callbacksLocal,
      ipisSent: st.ipiTargets,
      rescheduleIpis: st.rescheduleIpis,
      watchdogResends: st.watchdogResends,
      hardwareSignals: signalKey === undefined ? null : arch[signalKey],
      hardwareSignalStatistic: signalKey ?? null,
      ipiSingleSends: st.ipisSingle,
      ipiMaskSends: st.ipisMask,
      ipisSaved: st.ipisSaved,
      idlePollWakeups: st.idlePollKicks,
      interruptsTaken: perCpu.reduce((s, r) => s + r.irqs, 0),
      interruptsMerged: perCpu.reduce((s, r) => s + r.raisesMerged, 0),
      enxio: st.enxio,
      ebusy: st.ebusy,
      queueEntries: entryCounts(system.kernel.callSingleQueue.addedByType),
      queueEntriesWithoutIpi: entryCounts(system.kernel.callSingleQueue.joinedByType),
      irqWorkRun: st.irqWorkRun,
      ttwuActivated: st.ttwuActivated,
      ttwuBatches: st.ttwuBatches,
    },
    latencyNs: {
      samples: lat.count,
      p50: lat.percentile(50),
      p99: lat.percentile(99),
      max: lat.percentile(100),
      mean: Math.round(lat.mean()),
    },
    perCpu,
    arch,
    warnings: system.kernel.warnings.records.map((w) => ({ ...w })),
    problems: [...m.problems],
    stuckCsds: system.kernel.stuckCsds.map((s) => ({ ...s })),
  };
}

const num = (n: number): string => n.toLocaleString("en-US");

/** The usual median: the middle value, or the mean of the two middle ones for an even count. */
function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return 0;
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** Human-readable report. Shows every CPU up to `maxCpuRows`, else a summary plus the busiest CPUs. */
export function formatRunReport(r: RunReport, options: { maxCpuRows?: number } = {}): string {
  const maxRows = options.maxCpuRows ?? 16;
  const L: string[] = [];
  const c = r.counts;
  const opts = Object.entries(r.config.archOptions)
    .map(([k, v]) => `${k}=${v}`)
    .join(" ");
  L.push(
    `smpcall run: workload ${r.config.workload} (${num(r.config.ops)} ops), arch ${r.config.arch}${opts ? ` [${opts}]` : ""}, ${r.config.cpus} CPUs, seed ${r.config.seed}, kernel ${r.config.kernel}, idle ${r.config.idle}${r.config.memory !== undefined ? `, memory ${r.config.memory}` : ""}`,
  );
  L.push(`  ${r.config.topology}`);
  L.push(
    `  status: ${r.outcome.status}${r.problems.length > 0 ? ` with ${num(r.problems.length)} problem(s), listed under Problems` : ""} at ${(r.outcome.simTimeNs / 1e6).toFixed(6)} ms simulated, ${num(r.outcome.events)} events`,
  );
  L.push("");
  L.push("Cross-calls");
  const row = (k: string, v: string) => L.push(`  ${k.padEnd(26)}${v}`);
  row("calls issued", num(c.callsIssued));
  row("csds queued", num(c.csdsQueued));
  row("callbacks run", `${num(c.callbacksRun)} (${num(c.callbacksLocal)} on the caller)`);
  row(
    "IPIs requested",
    `${num(c.ipisSent + c.rescheduleIpis + c.watchdogResends)} (${num(c.ipisSent)} call-function targets of ${num(c.ipiSingleSends)} single and ${num(c.ipiMaskSends)} mask sends, ${num(c.rescheduleIpis)} reschedules${c.watchdogResends > 0 ? `, ${num(c.watchdogResends)} watchdog re-sends` : ""})`,
  );
  row(
    "hardware signals",
    c.hardwareSignals === null
      ? `not counted (backend ${r.config.arch} declares no signalStatistic)`
      : `${num(c.hardwareSignals)} (backend statistic ${c.hardwareSignalStatistic})`,
  );
  row("IPIs saved", `${num(c.ipisSaved)} (target queue already non-empty)`);
  const q = c.queueEntries;
  const j = c.queueEntriesWithoutIpi;
  if (q.irqWork + q.ttwu > 0) {
    row(
      "queue entries",
      `${num(q.async + q.sync + q.irqWork + q.ttwu)}: async ${num(q.async)}, sync ${num(q.sync)}, irq_work ${num(q.irqWork)}, ttwu ${num(q.ttwu)}`,
    );
    row(
      "  queued without an IPI",
      `async ${num(j.async)}, sync ${num(j.sync)}, irq_work ${num(j.irqWork)}, ttwu ${num(j.ttwu)} (queue already non-empty)`,
    );
    row(
      "  run",
      `${num(c.irqWorkRun)} irq_work, ${num(c.ttwuActivated)} wake-ups in ${num(c.ttwuBatches)} batches`,
    );
  }
  row("idle-poll wakeups", `${num(c.idlePollWakeups)} (no IPI needed)`);
  row("interrupts taken", `${num(c.interruptsTaken)} (${num(c.interruptsMerged)} raises merged)`);
  row("-ENXIO / -EBUSY", `${num(c.enxio)} / ${num(c.ebusy)}`);
  L.push("");
  L.push("Latency, queue to callback entry (simulated ns)");
  L.push(
    `  p50 ${num(r.latencyNs.p50)}   p99 ${num(r.latencyNs.p99)}   max ${num(r.latencyNs.max)}   mean ${num(r.latencyNs.mean)}   (${num(r.latencyNs.samples)} remote callbacks)`,
  );
  L.push("");
  L.push("Per CPU");
  const head = `  ${"CPU".padStart(5)} ${"online".padStart(6)} ${"callbacks".padStart(10)} ${"irqs".padStart(8)} ${"IPIs sent".padStart(10)} ${"merged".padStart(7)} ${"busy ns".padStart(12)} ${"spin ns".padStart(12)}`;
  const line = (x: CpuReportRow) =>
    `  ${String(x.cpu).padStart(5)} ${(x.online ? "yes" : "no").padStart(6)} ${num(x.callbacks).padStart(10)} ${num(x.irqs).padStart(8)} ${num(x.ipisSent).padStart(10)} ${num(x.raisesMerged).padStart(7)} ${num(x.busyNs).padStart(12)} ${num(x.spinNs).padStart(12)}`;
  L.push(head);
  if (r.perCpu.length <= maxRows) {
    for (const x of r.perCpu) L.push(line(x));
  } else {
    const busiest = [...r.perCpu].sort((a, b) => b.callbacks - a.callbacks || a.cpu - b.cpu).slice(0, 8);
    for (const x of busiest) L.push(line(x));
    L.push(
      `  ... ${r.perCpu.length - busiest.length} more CPUs (busiest 8 by callbacks shown; --json has all)`,
    );
    for (const [label, key] of [
      ["callbacks", "callbacks"],
      ["irqs", "irqs"],
      ["spin ns", "spinNs"],
    ] as const) {
      const vals = r.perCpu.map((x) => x[key]);
      L.push(
        `  ${label.padEnd(10)} min ${num(Math.min(...vals))}  median ${num(median(vals))}  max ${num(Math.max(...vals))}`,
      );
    }
  }
  L.push("");
  L.push(`Arch ${r.config.arch}`);
  const stats = Object.entries(r.arch);
  L.push(stats.length ? "  " + stats.map(([k, v]) => `${k} ${num(v)}`).join("   ") : "  (no statistics)");
  L.push("");
  L.push(`Warnings (${r.warnings.length})`);
  if (r.warnings.length === 0) L.push("  none");
  for (const w of r.warnings)
    L.push(
      `  [CPU ${w.cpu} @ ${num(w.time)} ns] ${w.message}${w.location ? ` (${w.location})` : ""}${w.count > 1 ? ` (x${w.count})` : ""}`,
    );
  if (r.stuckCsds.length > 0) {
    L.push("");
    L.push(`CSD lock-wait watchdog (${r.stuckCsds.length} stuck wait(s), as the kernel prints them)`);
    for (const s of r.stuckCsds) {
      const shown = s.lines.slice(0, 6);
      for (const l of shown) L.push(`  ${l.replace("\t", "  ")}`);
      const more = s.lines.length - shown.length + s.linesDropped;
      if (more > 0) L.push(`    ... ${num(more)} more line(s)`);
    }
  }
  L.push("");
  L.push(`Problems (${r.problems.length})`);
  if (r.problems.length === 0) L.push("  none");
  for (const p of r.problems)
    L.push(`  ${p.kind} @ ${num(p.time)} ns: ${p.message.split("\n").join("\n    ")}`);
  return L.join("\n") + "\n";
}

/** The backend's statistics, checked: an object of numbers; anything else (or a throw) names the backend. */
export function archStatistics(system: SmpSystem): ArchStatistics {
  const label = archLabel(system.descriptor);
  let stats: unknown;
  try {
    stats = system.arch.statistics();
  } catch (e) {
    throw new UserCodeError(`${label}: statistics() threw ${describeThrown(e)}`, -1, label, { cause: e });
  }
  if (typeof stats !== "object" || stats === null || Array.isArray(stats))
    throw new UserCodeError(
      `${label}: statistics() returned ${describeValue(stats)}: return an object of counters, e.g. { ipisRaised: 3 }`,
      -1,
      label,
    );
  for (const [k, v] of Object.entries(stats))
    if (typeof v !== "number" || !Number.isFinite(v))
      throw new UserCodeError(
        `${label}: statistics() gave ${k} = ${describeValue(v)}: every counter must be a finite number`,
        -1,
        label,
      );
  return stats as ArchStatistics;
}

/** The report's `memory` field: present only for a weak model or dropped barriers (sc reports stay as they were). */
function memoryConfig(system: SmpSystem): { memory?: string } {
  const mem = system.kernel.memory;
  const dropped = mem.droppedBarriers;
  if (!mem.weak && dropped.length === 0) return {};
  return { memory: `${mem.model}${dropped.length > 0 ? `, dropped ${dropped.join(" ")}` : ""}` };
}
