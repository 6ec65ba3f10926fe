import type { ChromeTrace, DeadlockReport, RunReport } from "@smpcall/core";
import { SPAN_KINDS, type HtmlReportData, type TimelineModel } from "./timeline-model";

/** Rebuild the timeline (and the report and deadlock, when recorded) from a saved Chrome trace. */
export function htmlDataFromChrome(trace: ChromeTrace, title: string): HtmlReportData {
  const meta = trace.metadata as Record<string, unknown>;
  const cpus = Number(meta.cpus);
  if (!Number.isInteger(cpus) || cpus < 1 || !Array.isArray(trace.traceEvents))
    throw new Error("not an smpcall Chrome trace (metadata.cpus and traceEvents expected)");
  const deadlock = (meta.deadlock as DeadlockReport | undefined) ?? null;
  // A trace cut by --trace-limit keeps the last records: a span whose start was overwritten is
  // drawn from the first event kept.
  const kept = meta.trace as { entriesInBuffer?: number; entriesWritten?: number } | undefined;
  const truncated = kept !== undefined && Number(kept.entriesWritten) > Number(kept.entriesInBuffer);
  const strings: string[] = [];
  const sidx = new Map<string, number>();
  const str = (s: string) => sidx.get(s) ?? (sidx.set(s, strings.length), strings.push(s) - 1);
  const t: TimelineModel = {
    cpus,
    startNs: Infinity,
    endNs: 0,
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
  const kindOf: Record<string, number> = {
    irqs: SPAN_KINDS.indexOf("irqs-off"),
    irq: SPAN_KINDS.indexOf("irq"),
    callback: SPAN_KINDS.indexOf("callback"),
    spin: SPAN_KINDS.indexOf("spin"),
  };
  const open = new Map<string, { start: number; label: string }[]>();
  const flows = new Map<number, { from: number; t: number }>();
  for (const e of trace.traceEvents) {
    if (e.ph === "M") continue;
    const ns = Math.round(e.ts * 1000);
    t.startNs = Math.min(t.startNs, ns);
    t.endNs = Math.max(t.endNs, ns);
    const cpu = Math.floor(e.tid / 2);
    const kind = kindOf[e.cat ?? ""];
    if ((e.ph === "B" || e.ph === "E") && kind !== undefined) {
      const key = `${cpu}:${kind}`;
      const stack = open.get(key) ?? open.set(key, []).get(key)!;
      if (e.ph === "B")
        stack.push({ start: ns, label: e.args?.csd ? `${e.name} (csd ${e.args.csd as string})` : e.name });
      else {
        const s = stack.pop() ?? (truncated ? { start: t.startNs, label: e.name } : undefined);
        if (s) {
          t.spans.lane.push(cpu);
          t.spans.kind.push(kind);
          t.spans.start.push(s.start);
          t.spans.end.push(ns);
          t.spans.label.push(str(s.label));
        }
      }
    } else if (e.ph === "s" && e.id !== undefined) {
      flows.set(e.id, { from: cpu, t: ns });
    } else if (e.ph === "f" && e.id !== undefined) {
      const s = flows.get(e.id);
      if (s) {
        t.arrows.from.push(s.from);
        t.arrows.to.push(cpu);
        t.arrows.send.push(s.t);
        t.arrows.deliver.push(ns);
      }
    } else if (e.ph === "i" && e.name === "smpcall_ipi_saved") {
      t.saved.from.push(cpu);
      t.saved.to.push(Number(e.args?.cpu));
      t.saved.t.push(ns);
    }
  }
  if (deadlock) t.endNs = Math.max(t.endNs, deadlock.stalledAt);
  for (const [key, stack] of open) {
    const [cpu, kind] = key.split(":").map(Number);
    for (const s of stack) {
      t.spans.lane.push(cpu);
      t.spans.kind.push(kind);
      t.spans.start.push(s.start);
      t.spans.end.push(t.endNs);
      t.spans.label.push(str(s.label));
    }
  }
  if (!Number.isFinite(t.startNs)) t.startNs = 0;
  return { title, timeline: t, report: (meta.report as RunReport | undefined) ?? null };
}
