import { InvalidArgumentError, describeValue } from "../errors";
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

/** The digits after the point of n/1000 µs for n = 1..999, trailing zeros dropped (".5", ".25", ".001"). */
const MICRO_FRACTIONS: readonly string[] = Array.from({ length: 1000 }, (_, n) =>
  n === 0 ? "" : `.${String(n).padStart(3, "0").replace(/0+$/, "")}`,
);

/**
 * `ns / 1000` as JSON prints it, built from whole numbers: V8 keeps the text of recently printed
 * non-integer numbers in a cache that survives young collections, so a long trace written with
 * `${ns / 1000}` promotes a dead string per event to old space (about 130 MB over a traced
 * 8192-CPU broadcast run). For whole ns up to 10^15 (11.6 simulated days) the µs
 * value's shortest text is the integer part, a point and the three ns digits without trailing
 * zeros (its double is within far less than 0.0005 of that decimal); other values go through JSON.
 */
function microsText(ns: number): string {
  if (Number.isInteger(ns) && ns >= 0 && ns <= 1e15) {
    const frac = ns % 1000;
    return ((ns - frac) / 1000).toFixed(0) + MICRO_FRACTIONS[frac];
  }
  return JSON.stringify(us(ns));
}

/** The trace's first event, naming the process after the backend and CPU count. */
function processNameEvent(meta: ChromeTraceMeta): ChromeTraceEvent {
  return {
    name: "process_name",
    ph: "M",
    ts: 0,
    pid: PID,
    tid: 0,
    args: { name: `smpcall ${meta.arch ?? ""} (${meta.cpus} CPUs)`.replace("  ", " ") },
  };
}

/**
 * Turns trace records into Trace Event Format events one record at a time, handing each event to
 * `emit` (see `toChromeTrace` for the mapping). Keeps only which CPUs already have a track.
 */
export class ChromeEventConverter {
  private readonly seen = new Set<number>();

  constructor(private readonly emit: (e: ChromeTraceEvent) => void) {}

  /** The track (tid) of a CPU; names its two tracks the first time the CPU appears. */
  track(cpu: number): number {
    if (!this.seen.has(cpu)) {
      this.seen.add(cpu);
      const emit = this.emit;
      emit({ name: "thread_name", ph: "M", ts: 0, pid: PID, tid: cpu * 2, args: { name: `CPU ${cpu}` } });
      emit({
        name: "thread_sort_index",
        ph: "M",
        ts: 0,
        pid: PID,
        tid: cpu * 2,
        args: { sort_index: cpu * 2 },
      });
      emit({
        name: "thread_name",
        ph: "M",
        ts: 0,
        pid: PID,
        tid: cpu * 2 + 1,
        args: { name: `CPU ${cpu} irqs-off` },
      });
      emit({
        name: "thread_sort_index",
        ph: "M",
        ts: 0,
        pid: PID,
        tid: cpu * 2 + 1,
        args: { sort_index: cpu * 2 + 1 },
      });
    }
    return cpu * 2;
  }

  /** Convert one record (records must come in trace order). */
  add(r: TraceRecord): void {
    const emit = this.emit;
    const tid = this.track(r.cpu);
    const ts = us(r.ts);
    const args = { ...r.fields };
    switch (r.name) {
      case "ipi_entry":
        emit({ name: `irq: ${r.fields.reason}`, cat: "irq", ph: "B", ts, pid: PID, tid, args });
        if (r.flow > 0) emit({ name: "ipi", cat: "ipi", ph: "f", bp: "e", id: r.flow, ts, pid: PID, tid });
        break;
      case "ipi_exit":
        emit({ name: `irq: ${r.fields.reason}`, cat: "irq", ph: "E", ts, pid: PID, tid });
        break;
      case "csd_function_entry":
        emit({ name: String(r.fields.func), cat: "callback", ph: "B", ts, pid: PID, tid, args });
        break;
      case "csd_function_exit":
        emit({ name: String(r.fields.func), cat: "callback", ph: "E", ts, pid: PID, tid });
        break;
      case "smpcall_csd_wait_begin":
        emit({
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
        emit({
          name: `spin ${String(r.fields.waits_for).split(" ")[0]}`,
          cat: "spin",
          ph: "E",
          ts,
          pid: PID,
          tid,
        });
        break;
      case "ipi_raise":
        emit({
          name: `ipi_raise -> CPU ${r.fields.target_cpus}`,
          cat: "ipi",
          ph: "X",
          dur: 0.001,
          ts,
          pid: PID,
          tid,
          args,
        });
        if (r.flow > 0) emit({ name: "ipi", cat: "ipi", ph: "s", id: r.flow, ts, pid: PID, tid });
        break;
      case "irq_disable":
        emit({ name: "irqs off", cat: "irqs", ph: "B", ts, pid: PID, tid: tid + 1 });
        break;
      case "irq_enable":
        emit({ name: "irqs off", cat: "irqs", ph: "E", ts, pid: PID, tid: tid + 1 });
        break;
      default:
        emit({
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
}

/**
 * Writes a Chrome trace as a stream of JSON text: `add` each record as it happens, then `end` with
 * the metadata (which may hold the run's report, known only at the end). The text is exactly
 * `JSON.stringify(toChromeTrace(records, meta))`, handed to `out` in pieces.
 */
export class ChromeTraceWriter {
  private readonly converter: ChromeEventConverter;
  private first = true;

  /** `meta` names the process (cpus, arch); `out` receives the text in order. */
  constructor(
    meta: ChromeTraceMeta,
    private readonly out: (text: string) => void,
  ) {
    this.converter = new ChromeEventConverter((e) => this.event(e));
    out('{"traceEvents":[');
    this.event(processNameEvent(meta));
  }

  private event(e: ChromeTraceEvent): void {
    this.out(this.first ? JSON.stringify(e) : "," + JSON.stringify(e));
    this.first = false;
  }

  /**
   * Write the events of one record. The JSON is built directly (the same text `JSON.stringify`
   * gives for the events `ChromeEventConverter` makes, without the event objects): a long trace
   * is mostly this.
   */
  add(r: TraceRecord): void {
    const tid = this.converter.track(r.cpu);
    const ts = microsText(r.ts);
    const f = r.fields;
    const q = JSON.stringify;
    const at = `"ts":${ts},"pid":${PID},"tid":${tid}`;
    let text: string;
    switch (r.name) {
      case "ipi_entry":
        text = `,{"name":${q(`irq: ${f.reason}`)},"cat":"irq","ph":"B",${at},"args":${q(f)}}`;
        if (r.flow > 0) text += `,{"name":"ipi","cat":"ipi","ph":"f","bp":"e","id":${r.flow},${at}}`;
        break;
      case "ipi_exit":
        text = `,{"name":${q(`irq: ${f.reason}`)},"cat":"irq","ph":"E",${at}}`;
        break;
      case "csd_function_entry":
        text = `,{"name":${q(String(f.func))},"cat":"callback","ph":"B",${at},"args":${q(f)}}`;
        break;
      case "csd_function_exit":
        text = `,{"name":${q(String(f.func))},"cat":"callback","ph":"E",${at}}`;
        break;
      case "smpcall_csd_wait_begin":
        text = `,{"name":${q(`spin ${String(f.waits_for).split(" ")[0]}`)},"cat":"spin","ph":"B",${at},"args":${q(f)}}`;
        break;
      case "smpcall_csd_wait_end":
        text = `,{"name":${q(`spin ${String(f.waits_for).split(" ")[0]}`)},"cat":"spin","ph":"E",${at}}`;
        break;
      case "ipi_raise":
        text = `,{"name":${q(`ipi_raise -> CPU ${f.target_cpus}`)},"cat":"ipi","ph":"X","dur":0.001,${at},"args":${q(f)}}`;
        if (r.flow > 0) text += `,{"name":"ipi","cat":"ipi","ph":"s","id":${r.flow},${at}}`;
        break;
      case "irq_disable":
        text = `,{"name":"irqs off","cat":"irqs","ph":"B","ts":${ts},"pid":${PID},"tid":${tid + 1}}`;
        break;
      case "irq_enable":
        text = `,{"name":"irqs off","cat":"irqs","ph":"E","ts":${ts},"pid":${PID},"tid":${tid + 1}}`;
        break;
      default: {
        const t = formatTraceFields(r);
        let args: string;
        if (Object.prototype.hasOwnProperty.call(f, "text")) args = q({ ...f, text: t });
        else {
          const fields = q(f);
          args = fields === "{}" ? `{"text":${q(t)}}` : `${fields.slice(0, -1)},"text":${q(t)}}`;
        }
        text = `,{"name":${q(r.name)},"cat":"tracepoint","ph":"i","s":"t",${at},"args":${args}}`;
      }
    }
    this.out(text);
  }

  /** Close the event list and write the metadata. */
  end(meta: ChromeTraceMeta): void {
    this.out(`],"displayTimeUnit":"ns","metadata":${JSON.stringify({ ...meta })}}`);
  }
}

/**
 * Export records as Chrome Trace Event JSON: one track per CPU; interrupt handlers, callbacks and
 * CSD spins as B/E slices; each IPI as a flow arrow from the raise on the sender to the interrupt
 * entry on the target; interrupts-disabled spans as slices on a second track per CPU; everything
 * else as instant events.
 */
export function toChromeTrace(records: readonly TraceRecord[], meta: ChromeTraceMeta): ChromeTrace {
  const list: unknown = records;
  if (!Array.isArray(list))
    throw new InvalidArgumentError(
      `toChromeTrace: records must be an array of trace records, got ${describeValue(records)}`,
    );
  if (typeof meta !== "object" || meta === null)
    throw new InvalidArgumentError(
      `toChromeTrace: meta must be an object ({ cpus, arch, seed }), got ${describeValue(meta)}`,
    );
  const ev: ChromeTraceEvent[] = [processNameEvent(meta)];
  const converter = new ChromeEventConverter((e) => ev.push(e));
  for (const r of records) converter.add(r);
  return { traceEvents: ev, displayTimeUnit: "ns", metadata: { ...meta } };
}
