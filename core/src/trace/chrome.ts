import { formatTraceFields } from "./ftrace";
import type { TraceRecord } from "./trace-sink";

/** Facts recorded in the trace's metadata. */
export interface ChromeTraceMeta {
  readonly cpus: number;
  readonly arch?: string;
  readonly seed?: number;
  readonly [key: string]: unknown;
}

/** One Trace Event Format event. */
export interface ChromeTraceEvent {
  name: string;
  ph: string;
  ts: number;
  pid: number;
  tid: number;
  cat?: string;
  dur?: number;
  id?: number;
  bp?: string;
  s?: string;
  args?: Record<string, unknown>;
}

/** A Chrome trace: `{ traceEvents, displayTimeUnit, metadata }`, which Perfetto and chrome://tracing open. */
export interface ChromeTrace {
  traceEvents: ChromeTraceEvent[];
  displayTimeUnit: "ns";
  metadata: ChromeTraceMeta;
}

const PID = 1;
const us = (ns: number): number => ns / 1000;

/**
 * Export records as Chrome Trace Event JSON: one track per CPU; interrupt handlers, callbacks and
 * CSD spins as B/E slices; each IPI as a flow arrow from the raise on the sender to the interrupt
 * entry on the target; interrupts-disabled spans as slices on a second track per CPU; everything
 * else as instant events.
 */
export function toChromeTrace(records: readonly TraceRecord[], meta: ChromeTraceMeta): ChromeTrace {
  const ev: ChromeTraceEvent[] = [];
  ev.push({
    name: "process_name",
    ph: "M",
    ts: 0,
    pid: PID,
    tid: 0,
    args: { name: `smpcall ${meta.arch ?? ""} (${meta.cpus} CPUs)`.replace("  ", " ") },
  });
  const seen = new Set<number>();
  const track = (cpu: number): number => {
    if (!seen.has(cpu)) {
      seen.add(cpu);
      ev.push({ name: "thread_name", ph: "M", ts: 0, pid: PID, tid: cpu * 2, args: { name: `CPU ${cpu}` } });
      ev.push({
        name: "thread_sort_index",
        ph: "M",
        ts: 0,
        pid: PID,
        tid: cpu * 2,
        args: { sort_index: cpu * 2 },
      });
      ev.push({
        name: "thread_name",
        ph: "M",
        ts: 0,
        pid: PID,
        tid: cpu * 2 + 1,
        args: { name: `CPU ${cpu} irqs-off` },
      });
      ev.push({
        name: "thread_sort_index",
        ph: "M",
        ts: 0,
        pid: PID,
        tid: cpu * 2 + 1,
        args: { sort_index: cpu * 2 + 1 },
      });
    }
    return cpu * 2;
  };
  for (const r of records) {
    const tid = track(r.cpu);
    const ts = us(r.ts);
    const args = { ...r.fields };
    switch (r.name) {
      case "ipi_entry":
        ev.push({ name: `irq: ${r.fields.reason}`, cat: "irq", ph: "B", ts, pid: PID, tid, args });
        if (r.flow > 0) ev.push({ name: "ipi", cat: "ipi", ph: "f", bp: "e", id: r.flow, ts, pid: PID, tid });
        break;
      case "ipi_exit":
        ev.push({ name: `irq: ${r.fields.reason}`, cat: "irq", ph: "E", ts, pid: PID, tid });
        break;
      case "csd_function_entry":
        ev.push({ name: String(r.fields.func), cat: "callback", ph: "B", ts, pid: PID, tid, args });
        break;
      case "csd_function_exit":
        ev.push({ name: String(r.fields.func), cat: "callback", ph: "E", ts, pid: PID, tid });
        break;
      case "smpcall_csd_wait_begin":
        ev.push({
          name: `spin ${String(r.fields.waits_for).split(" ")[0]}`,
          cat: "spin",
          ph: "B",
          ts,
          pid: PID,
          tid,
          args,
        });
        break;
      case "smpcall_csd_wait_end":
        ev.push({
          name: `spin ${String(r.fields.waits_for).split(" ")[0]}`,
          cat: "spin",
          ph: "E",
          ts,
          pid: PID,
          tid,
        });
        break;
      case "ipi_raise":
        ev.push({
          name: `ipi_raise -> CPU ${r.fields.target_cpus}`,
          cat: "ipi",
          ph: "X",
          dur: 0.001,
          ts,
          pid: PID,
          tid,
          args,
        });
        if (r.flow > 0) ev.push({ name: "ipi", cat: "ipi", ph: "s", id: r.flow, ts, pid: PID, tid });
        break;
      case "irq_disable":
        ev.push({ name: "irqs off", cat: "irqs", ph: "B", ts, pid: PID, tid: tid + 1 });
        break;
      case "irq_enable":
        ev.push({ name: "irqs off", cat: "irqs", ph: "E", ts, pid: PID, tid: tid + 1 });
        break;
      default:
        ev.push({
          name: r.name,
          cat: "tracepoint",
          ph: "i",
          s: "t",
          ts,
          pid: PID,
          tid,
          args: { ...args, text: formatTraceFields(r) },
        });
    }
  }
  return { traceEvents: ev, displayTimeUnit: "ns", metadata: { ...meta } };
}
