import { kernelProfile } from "../kernel/profile";
import type { TraceRecord } from "./trace-sink";

/** Header facts printed at the top of an ftrace-style file, and what the export keeps. */
export interface FtraceMeta {
  readonly cpus: number;
  readonly arch?: string;
  readonly seed?: number;
  /**
   * The kernel profile the run behaved as (named in the header). With a profile the export holds
   * only the events that kernel can emit on the arch; without one, every record (smpcall's own
   * `smpcall_*` events too).
   */
  readonly kernel?: string;
  /**
   * The arch's tracepoints (its descriptor's `tracepoints`); undefined: `ipi_raise`, `ipi_entry`,
   * `ipi_exit`. Used only with a profile.
   */
  readonly archTracepoints?: readonly string[];
  /**
   * The kernel has the irq_disable/irq_enable tracepoints (CONFIG_TRACE_IRQFLAGS, which lockdep
   * and the irqsoff tracer select; Debian's 6.1 builds have neither). Used only with a profile.
   */
  readonly irqFlagsTracepoints?: boolean;
}

/** kernel/smp.c's tracepoints since v6.4 (include/trace/events/csd.h and ipi.h). */
const SMP_TRACEPOINTS = [
  "csd_queue_cpu",
  "csd_function_entry",
  "csd_function_exit",
  "ipi_send_cpu",
  "ipi_send_cpumask",
];
/**
 * An arch's own `ipi_raise` record, for backends whose kernel traces `ipi_raise` once per send
 * naming the whole target mask (6.1's arm and arm64 `smp_cross_call`, before the first write):
 * fields `target_cpus` (a cpulist) and `reason`. The machine records its own `ipi_raise` per
 * target CPU as it is raised; a backend that emits this record and lists it (not `ipi_raise`) in
 * its descriptor's `tracepoints` gets the kernel's lines in a kernel profile's ftrace export,
 * where it is printed as `ipi_raise`.
 */
export const ARCH_IPI_RAISE = "arch_ipi_raise";

/** What an arch that does not say has: the generic IPI events of include/trace/events/ipi.h. */
const DEFAULT_ARCH_TRACEPOINTS = ["ipi_raise", "ipi_entry", "ipi_exit"];

/**
 * The events a kernel profile's ftrace export keeps (null: every record): the scheduler's
 * `sched_wake_idle_without_ipi`, kernel/smp.c's own tracepoints where the profile has them, the
 * irq-flags events when the kernel has them, and the arch's.
 */
export function ftraceEvents(meta: FtraceMeta): ReadonlySet<string> | null {
  if (meta.kernel === undefined) return null;
  const profile = kernelProfile(meta.kernel);
  const out = new Set<string>(["sched_wake_idle_without_ipi"]);
  if (profile.smpTracepoints) for (const e of SMP_TRACEPOINTS) out.add(e);
  if (meta.irqFlagsTracepoints === true) {
    out.add("irq_disable");
    out.add("irq_enable");
  }
  for (const e of meta.archTracepoints ?? DEFAULT_ARCH_TRACEPOINTS) out.add(e);
  return out;
}

/** The flags column: irqs-off, need-resched (not modelled: '.'), hardirq, preempt depth, migrate. */
function flags(r: TraceRecord): string {
  return `${r.irqsOff ? "d" : "."}.${r.hardirq > 0 ? "h" : "."}${r.hardirq > 0 ? Math.min(9, r.hardirq) : "."}.`;
}

/** `task-pid` as the kernel prints it (`%16s-%-7d`): the idle task is `<idle>-0`; CPU n's program is `smpcall/n-(1000+n)`. */
function task(r: TraceRecord): string {
  const comm = r.idle ? "<idle>" : `smpcall/${r.cpu}`;
  const pid = r.idle ? 0 : 1000 + r.cpu;
  return `${comm.padStart(16)}-${String(pid).padEnd(7)}`;
}

/** Seconds with microsecond digits, from ns. */
function seconds(ns: number): string {
  const us = Math.floor(ns / 1000);
  return `${Math.floor(us / 1e6)}.${String(us % 1e6).padStart(6, "0")}`;
}

/**
 * A CPU set as the kernel's `%*pb` prints a trace bitmask: hex in 32-bit groups separated by
 * commas, most significant first, over the mask's size rounded up to whole 64-bit words.
 */
export function ftraceBitmask(cpus: Iterable<number>, nrCpus: number): string {
  const words = Math.max(1, Math.ceil(nrCpus / 64)) * 2;
  const groups = new Uint32Array(words);
  for (const c of cpus) if (c >= 0 && c < words * 32) groups[c >>> 5] |= 1 << (c & 31);
  const out: string[] = [];
  for (let i = words - 1; i >= 0; i--) out.push(groups[i].toString(16).padStart(8, "0"));
  return out.join(",");
}

/** The CPUs of a cpulist (`1-3,5`). */
function cpulist(text: string): number[] {
  const out: number[] = [];
  if (text === "") return out;
  for (const part of text.split(",")) {
    const [a, b] = part.split("-").map(Number);
    for (let c = a; c <= (b ?? a); c++) out.push(c);
  }
  return out;
}

/** A NULL pointer as the kernel's `%p` prints it (NULL is not hashed). */
const NULL_POINTER = "0000000000000000";

/**
 * Render a record's fields the way the kernel's tracepoint format prints them. With `nrCpus`
 * (the ftrace export), CPU sets are the kernel's hex bitmasks (`ipi_raise: target_mask=…
 * (reason)`, `ipi_send_cpumask: cpumask=…`), a reschedule's `ipi_send_cpu` names no callback
 * (`0x0`) and a local call's `csd_function_entry/exit` a NULL csd (`csd=0000000000000000`);
 * without it (Chrome trace text), CPU sets stay cpulists and a local call's csd is `local`.
 */
export function formatTraceFields(r: TraceRecord, nrCpus?: number): string {
  const f = r.fields;
  switch (r.name) {
    case "csd_function_entry":
    case "csd_function_exit":
      // A local call's csd is NULL, which %p prints as zeros.
      return `func=${f.func}, csd=${nrCpus !== undefined && f.csd === "local" ? NULL_POINTER : f.csd}`;
    case "ipi_entry":
    case "ipi_exit":
      return `(${f.reason})`;
    case "ipi_raise":
    case ARCH_IPI_RAISE:
      if (nrCpus !== undefined)
        return `target_mask=${ftraceBitmask(cpulist(String(f.target_cpus)), nrCpus)} (${f.reason})`;
      break;
    case "ipi_send_cpumask":
      if (nrCpus !== undefined)
        return `cpumask=${ftraceBitmask(cpulist(String(f.cpumask)), nrCpus)} callsite=${f.callsite} callback=${f.callback}`;
      break;
    case "ipi_send_cpu":
      if (nrCpus !== undefined)
        return `cpu=${f.cpu} callsite=${f.callsite} callback=${f.callback === "scheduler_ipi" ? "0x0" : f.callback}`;
      break;
  }
  let out = "";
  for (const k in f) out += out === "" ? `${k}=${f[k]}` : ` ${k}=${f[k]}`;
  return out;
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

/**
 * One record as an ftrace line (with its newline): task-pid, [CPU], flags, timestamp, event,
 * fields in the kernel's text. `nrCpus` sizes the CPU bitmasks (default: enough for the record);
 * `name` is the event name printed (default: the record's).
 */
export function ftraceLine(r: TraceRecord, nrCpus = 64, name = r.name): string {
  return `${task(r)} [${String(r.cpu).padStart(3, "0")}] ${flags(r)} ${seconds(r.ts).padStart(12)}: ${name}: ${formatTraceFields(r, nrCpus)}\n`;
}

/**
 * An ftrace export: which records it keeps (see {@link ftraceEvents}) and how it prints them, for
 * writers that stream records one at a time.
 */
export class FtraceExport {
  private readonly events: ReadonlySet<string> | null;

  constructor(readonly meta: FtraceMeta) {
    this.events = ftraceEvents(meta);
  }

  /** Does the export keep `r`? */
  keeps(r: TraceRecord): boolean {
    return this.events === null || this.events.has(r.name);
  }

  /** `r` as a line of this export (with a kernel profile, an {@link ARCH_IPI_RAISE} record is the kernel's `ipi_raise`). */
  line(r: TraceRecord): string {
    const kernelName = this.meta.kernel !== undefined && r.name === ARCH_IPI_RAISE ? "ipi_raise" : r.name;
    return ftraceLine(r, this.meta.cpus, kernelName);
  }
}

/**
 * Export records as an ftrace text trace (`/sys/kernel/tracing/trace` layout): a header, then one
 * line per event: task-pid, [CPU], flags, timestamp, event name and fields. With `meta.kernel`,
 * only the events that kernel can emit on the arch are kept (see {@link ftraceEvents}). `written`
 * (default: the records given) is the header's entries-written, larger when older records were
 * overwritten; records the export does not keep are taken out of both counts.
 */
export function toFtraceText(
  records: readonly TraceRecord[],
  meta: FtraceMeta,
  written = records.length,
): string {
  const exp = new FtraceExport(meta);
  const lines: string[] = [];
  for (const r of records) if (exp.keeps(r)) lines.push(exp.line(r));
  const dropped = records.length - lines.length;
  return ftraceHeader(meta, lines.length, written - dropped) + lines.join("");
}
