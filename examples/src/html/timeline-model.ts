import type { DeadlockReport, RunReport, TraceRecord } from "@smpcall/core";

/** Span kinds drawn on a CPU lane. */
export const SPAN_KINDS = ["irqs-off", "irq", "callback", "spin"] as const;
/** One of SPAN_KINDS. */
export type SpanKind = (typeof SPAN_KINDS)[number];

/**
 * What the HTML timeline draws, in columnar arrays (compact in the page for big runs): spans on
 * CPU lanes, IPI arrows from the raise on the sender to the interrupt entry on the target, and
 * queue adds that needed no IPI because the target queue was already non-empty.
 */
export interface TimelineModel {
  cpus: number;
  startNs: number;
  endNs: number;
  /** String table for labels and details. */
  strings: string[];
  spans: { lane: number[]; kind: number[]; start: number[]; end: number[]; label: number[] };
  arrows: { from: number[]; to: number[]; send: number[]; deliver: number[] };
  saved: { from: number[]; to: number[]; t: number[] };
  deadlock: {
    stalledAt: number;
    cycle: number[];
    waits: { cpu: number; holder: number; what: string }[];
  } | null;
}

/** Build the model from trace records (in time order), with an optional deadlock to mark. */
export function buildTimeline(
  records: readonly TraceRecord[],
  cpus: number,
  deadlock?: DeadlockReport | null,
): TimelineModel {
  const strings: string[] = [];
  const index = new Map<string, number>();
  const str = (s: string): number => {
    let i = index.get(s);
    if (i === undefined) {
      i = strings.length;
      strings.push(s);
      index.set(s, i);
    }
    return i;
  };
  const m: TimelineModel = {
    cpus,
    startNs: records.length ? records[0].ts : 0,
    endNs: records.length ? records[records.length - 1].ts : 0,
    strings,
    spans: { lane: [], kind: [], start: [], end: [], label: [] },
    arrows: { from: [], to: [], send: [], deliver: [] },
    saved: { from: [], to: [], t: [] },
    deadlock: deadlock
      ? {
          stalledAt: deadlock.stalledAt,
          cycle: deadlock.cycle ?? [],
          waits: deadlock.cpus.map((c) => ({ cpu: c.cpu, holder: c.holder, what: c.waitsFor })),
        }
      : null,
  };
  if (deadlock) m.endNs = Math.max(m.endNs, deadlock.stalledAt);
  // Open spans per CPU and kind: a stack, as they nest (an irq inside a spin, a callback inside an irq).
  const open: { kind: number; start: number; label: number }[][] = Array.from({ length: cpus }, () => []);
  const push = (cpu: number, kind: SpanKind, start: number, label: string) =>
    open[cpu].push({ kind: SPAN_KINDS.indexOf(kind), start, label: str(label) });
  const close = (cpu: number, kind: SpanKind, end: number) => {
    const k = SPAN_KINDS.indexOf(kind);
    const stack = open[cpu];
    for (let i = stack.length - 1; i >= 0; i--) {
      if (stack[i].kind !== k) continue;
      const s = stack.splice(i, 1)[0];
      m.spans.lane.push(cpu);
      m.spans.kind.push(k);
      m.spans.start.push(s.start);
      m.spans.end.push(end);
      m.spans.label.push(s.label);
      return;
    }
  };
  const raised = new Map<number, { from: number; t: number }>();
  for (const r of records) {
    const f = r.fields;
    switch (r.name) {
      case "irq_disable":
        push(r.cpu, "irqs-off", r.ts, "interrupts disabled");
        break;
      case "irq_enable":
        close(r.cpu, "irqs-off", r.ts);
        break;
      case "ipi_entry":
        push(r.cpu, "irq", r.ts, `irq: ${f.reason}`);
        break;
      case "ipi_exit":
        close(r.cpu, "irq", r.ts);
        break;
      case "csd_function_entry":
        push(r.cpu, "callback", r.ts, `${f.func} (csd ${f.csd})`);
        break;
      case "csd_function_exit":
        close(r.cpu, "callback", r.ts);
        break;
      case "smpcall_csd_wait_begin":
        push(r.cpu, "spin", r.ts, `spins on ${f.waits_for}`);
        break;
      case "smpcall_csd_wait_end":
        close(r.cpu, "spin", r.ts);
        break;
      case "ipi_raise":
        if (r.flow > 0) raised.set(r.flow, { from: r.cpu, t: r.ts });
        break;
      case "smpcall_ipi_saved":
        m.saved.from.push(r.cpu);
        m.saved.to.push(Number(f.cpu));
        m.saved.t.push(r.ts);
        break;
    }
    if (r.name === "ipi_entry" && r.flow > 0) {
      const s = raised.get(r.flow);
      if (s) {
        m.arrows.from.push(s.from);
        m.arrows.to.push(r.cpu);
        m.arrows.send.push(s.t);
        m.arrows.deliver.push(r.ts);
        raised.delete(r.flow);
      }
    }
  }
  // Spans still open (a deadlocked spin, interrupts never re-enabled) run to the end.
  for (let cpu = 0; cpu < cpus; cpu++) {
    for (const s of [...open[cpu]].reverse()) close(cpu, SPAN_KINDS[s.kind], m.endNs);
  }
  return m;
}

/** One row of an explore report's policy comparison. */
export interface PolicyBar {
  policy: string;
  violation: string | null;
  schedules: number;
  complete: boolean;
  ipisPerCall: number;
  serialisedNs: number;
}

/** Everything the page shows: the timeline, the run report and (explore) the policy comparison. */
export interface HtmlReportData {
  title: string;
  timeline: TimelineModel;
  report: RunReport | null;
  /** The violation found, in words (explore/replay). */
  violation?: string | null;
  policies?: PolicyBar[];
}
