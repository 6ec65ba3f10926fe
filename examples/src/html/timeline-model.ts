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

/** A span still open on a CPU lane. */
interface OpenSpan {
  kind: number;
  start: number;
  label: number;
}

/**
 * Builds the timeline one record at a time (records in time order), so a run can feed it while it
 * streams its trace to a file. `truncated`: the records are the tail of a longer trace (a ring
 * buffer kept the last N), so a span whose start was overwritten is drawn from the first record
 * kept, with the label its end record gives.
 */
export class TimelineBuilder {
  private readonly m: TimelineModel;
  private readonly index = new Map<string, number>();
  /** Open spans per CPU: a stack, as they nest (an irq inside a spin, a callback inside an irq). */
  private readonly open: OpenSpan[][];
  private readonly raised = new Map<number, { from: number; t: number }>();
  private records = 0;

  constructor(
    cpus: number,
    private readonly truncated = false,
  ) {
    this.m = {
      cpus,
      startNs: 0,
      endNs: 0,
      strings: [],
      spans: { lane: [], kind: [], start: [], end: [], label: [] },
      arrows: { from: [], to: [], send: [], deliver: [] },
      saved: { from: [], to: [], t: [] },
      deadlock: null,
    };
    this.open = Array.from({ length: cpus }, () => []);
  }

  private str(s: string): number {
    let i = this.index.get(s);
    if (i === undefined) {
      i = this.m.strings.length;
      this.m.strings.push(s);
      this.index.set(s, i);
    }
    return i;
  }

  private push(cpu: number, kind: SpanKind, start: number, label: string): void {
    this.open[cpu].push({ kind: SPAN_KINDS.indexOf(kind), start, label: this.str(label) });
  }

  private span(cpu: number, kind: number, start: number, end: number, label: number): void {
    const m = this.m;
    m.spans.lane.push(cpu);
    m.spans.kind.push(kind);
    m.spans.start.push(start);
    m.spans.end.push(end);
    m.spans.label.push(label);
  }

  /** Close the innermost open span of `kind`; `label` names it if its start was not kept. */
  private close(cpu: number, kind: SpanKind, end: number, label?: string): void {
    const k = SPAN_KINDS.indexOf(kind);
    const stack = this.open[cpu];
    for (let i = stack.length - 1; i >= 0; i--) {
      if (stack[i].kind !== k) continue;
      const s = stack.splice(i, 1)[0];
      this.span(cpu, k, s.start, end, s.label);
      return;
    }
    if (this.truncated && label !== undefined) this.span(cpu, k, this.m.startNs, end, this.str(label));
  }

  /** Add the next record. */
  add(r: TraceRecord): void {
    const m = this.m;
    if (this.records++ === 0) m.startNs = r.ts;
    m.endNs = r.ts;
    const f = r.fields;
    switch (r.name) {
      case "irq_disable":
        this.push(r.cpu, "irqs-off", r.ts, "interrupts disabled");
        break;
      case "irq_enable":
        this.close(r.cpu, "irqs-off", r.ts, "interrupts disabled");
        break;
      case "ipi_entry":
        this.push(r.cpu, "irq", r.ts, `irq: ${f.reason}`);
        break;
      case "ipi_exit":
        this.close(r.cpu, "irq", r.ts, `irq: ${f.reason}`);
        break;
      case "csd_function_entry":
        this.push(r.cpu, "callback", r.ts, `${f.func} (csd ${f.csd})`);
        break;
      case "csd_function_exit":
        this.close(r.cpu, "callback", r.ts, `${f.func} (csd ${f.csd})`);
        break;
      case "smpcall_csd_wait_begin":
        this.push(r.cpu, "spin", r.ts, `spins on ${f.waits_for}`);
        break;
      case "smpcall_csd_wait_end":
        this.close(r.cpu, "spin", r.ts, `spins on ${f.waits_for}`);
        break;
      case "ipi_raise":
        if (r.flow > 0) this.raised.set(r.flow, { from: r.cpu, t: r.ts });
        break;
      case "smpcall_ipi_saved":
        m.saved.from.push(r.cpu);
        m.saved.to.push(Number(f.cpu));
        m.saved.t.push(r.ts);
        break;
    }
    if (r.name === "ipi_entry" && r.flow > 0) {
      const s = this.raised.get(r.flow);
      if (s) {
        m.arrows.from.push(s.from);
        m.arrows.to.push(r.cpu);
        m.arrows.send.push(s.t);
        m.arrows.deliver.push(r.ts);
        this.raised.delete(r.flow);
      }
    }
  }

  /** The model, with an optional deadlock to mark; spans still open run to the end. Call once. */
  finish(deadlock?: DeadlockReport | null): TimelineModel {
    const m = this.m;
    if (deadlock) {
      m.deadlock = {
        stalledAt: deadlock.stalledAt,
        cycle: deadlock.cycle ?? [],
        waits: deadlock.cpus.map((c) => ({ cpu: c.cpu, holder: c.holder, what: c.waitsFor })),
      };
      m.endNs = Math.max(m.endNs, deadlock.stalledAt);
    }
    // Spans still open (a deadlocked spin, interrupts never re-enabled) run to the end.
    for (let cpu = 0; cpu < m.cpus; cpu++) {
      for (const s of [...this.open[cpu]].reverse()) this.close(cpu, SPAN_KINDS[s.kind], m.endNs);
    }
    return m;
  }
}

/** Build the model from trace records (in time order), with an optional deadlock to mark. */
export function buildTimeline(
  records: readonly TraceRecord[],
  cpus: number,
  deadlock?: DeadlockReport | null,
  truncated = false,
): TimelineModel {
  const b = new TimelineBuilder(cpus, truncated);
  for (const r of records) b.add(r);
  return b.finish(deadlock);
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
