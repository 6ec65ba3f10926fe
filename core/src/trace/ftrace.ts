import type { TraceRecord } from "./trace-sink";

/** Header facts printed at the top of an ftrace-style file. */
export interface FtraceMeta {
  readonly cpus: number;
  readonly arch?: string;
  readonly seed?: number;
  /** The kernel profile the run behaved as (named in the header). */
  readonly kernel?: string;
}

/** The flags column: irqs-off, need-resched (not modelled: '.'), hardirq, preempt depth, migrate. */
function flags(r: TraceRecord): string {
  return `${r.irqsOff ? "d" : "."}.${r.hardirq > 0 ? "h" : "."}${r.hardirq > 0 ? Math.min(9, r.hardirq) : "."}.`;
}

/** `task-pid` column: the idle task is `<idle>-0`; CPU n's program is `smpcall/n-(1000+n)`. */
function task(r: TraceRecord): string {
  return r.idle ? "<idle>-0" : `smpcall/${r.cpu}-${1000 + r.cpu}`;
}

/** Seconds with microsecond digits, from ns. */
function seconds(ns: number): string {
  const us = Math.floor(ns / 1000);
  return `${Math.floor(us / 1e6)}.${String(us % 1e6).padStart(6, "0")}`;
}

/** Render a record's fields the way the kernel's tracepoint format prints them. */
export function formatTraceFields(r: TraceRecord): string {
  const f = r.fields;
  switch (r.name) {
    case "csd_function_entry":
    case "csd_function_exit":
      return `func=${f.func}, csd=${f.csd}`;
    case "ipi_entry":
    case "ipi_exit":
      return `(${f.reason})`;
    default: {
      let out = "";
      for (const k in f) out += out === "" ? `${k}=${f[k]}` : ` ${k}=${f[k]}`;
      return out;
    }
  }
}

/**
 * The header of an ftrace text trace. `inBuffer` records are printed out of `written` emitted
 * (they differ when a ring buffer overwrote the oldest ones, as the kernel's does).
 */
export function ftraceHeader(meta: FtraceMeta, inBuffer: number, written: number): string {
  const out: string[] = [];
  out.push("# tracer: nop");
  out.push("#");
  out.push(
    `# smpcall: ${meta.cpus} CPUs${meta.arch ? `, arch ${meta.arch}` : ""}${meta.seed !== undefined ? `, seed ${meta.seed}` : ""}${meta.kernel !== undefined ? `, kernel ${meta.kernel}` : ""}`,
  );
  out.push(`# entries-in-buffer/entries-written: ${inBuffer}/${written}   #P:${meta.cpus}`);
  out.push("#");
  out.push("#                                _-----=> irqs-off/BH-disabled");
  out.push("#                               / _----=> need-resched");
  out.push("#                              | / _---=> hardirq/softirq");
  out.push("#                              || / _--=> preempt-depth");
  out.push("#                              ||| / _-=> migrate-disable");
  out.push("#                              |||| /     delay");
  out.push("#           TASK-PID     CPU#  |||||  TIMESTAMP  FUNCTION");
  out.push("#              | |         |   |||||     |         |");
  return out.join("\n") + "\n";
}

/** One record as an ftrace line (with its newline): task-pid, [CPU], flags, timestamp, event, fields. */
export function ftraceLine(r: TraceRecord): string {
  return `${task(r).padStart(22)} [${String(r.cpu).padStart(3, "0")}] ${flags(r)} ${seconds(r.ts).padStart(12)}: ${r.name}: ${formatTraceFields(r)}\n`;
}

/**
 * Export records as an ftrace text trace (`/sys/kernel/tracing/trace` layout): a header, then one
 * line per event: task-pid, [CPU], flags, timestamp, event name and fields. `written` (default: the
 * records given) is the header's entries-written, larger when older records were overwritten.
 */
export function toFtraceText(
  records: readonly TraceRecord[],
  meta: FtraceMeta,
  written = records.length,
): string {
  const out: string[] = [ftraceHeader(meta, records.length, written)];
  for (const r of records) out.push(ftraceLine(r));
  return out.join("");
}
