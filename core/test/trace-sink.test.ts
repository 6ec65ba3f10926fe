import { describe, expect, it } from "@jest/globals";
import { descriptor as generic } from "@smpcall/arch-generic";
import {
  ChromeTraceWriter,
  runWorkload,
  toChromeTrace,
  toFtraceText,
  TraceSink,
  type TraceRecord,
} from "@smpcall/core";

const STATE = { irqsDisabled: false, hardirqDepth: 0, idle: false };

function fill(sink: TraceSink, n: number): void {
  for (let i = 0; i < n; i++) sink.emit(i * 10, i % 4, STATE, "csd_queue_cpu", { cpu: i % 4, seq: i });
}

describe("TraceSink", () => {
  it("without a limit keeps every record in order", () => {
    const s = new TraceSink(true);
    fill(s, 25);
    expect(s.records.map((r) => r.fields.seq)).toEqual(Array.from({ length: 25 }, (_, i) => i));
    expect(s.written).toBe(25);
    expect(s.dropped).toBe(0);
  });

  it("with a limit is a ring buffer: keeps the last N, counts every record written", () => {
    const s = new TraceSink(true, 10);
    fill(s, 7);
    expect(s.records.map((r) => r.fields.seq)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    for (let i = 7; i < 33; i++) s.emit(i, 0, STATE, "x", { seq: i });
    expect(s.records.map((r) => r.fields.seq)).toEqual([23, 24, 25, 26, 27, 28, 29, 30, 31, 32]);
    // reading the records in between does not disturb the ring
    s.emit(33, 0, STATE, "x", { seq: 33 });
    expect(s.records.map((r) => r.fields.seq)).toEqual([24, 25, 26, 27, 28, 29, 30, 31, 32, 33]);
    expect(s.written).toBe(34);
    expect(s.dropped).toBe(24);
    expect(s.count("x")).toBe(10);
  });

  it("with a consumer hands every record over and keeps none", () => {
    const got: TraceRecord[] = [];
    const s = new TraceSink(true, Infinity, (r) => got.push(r));
    fill(s, 12);
    expect(got.map((r) => r.fields.seq)).toEqual(Array.from({ length: 12 }, (_, i) => i));
    expect(s.records).toEqual([]);
    expect(s.written).toBe(12);
    expect(s.dropped).toBe(0);
  });

  it("refuses a limit below 1 and a consumer together with a limit", () => {
    expect(() => new TraceSink(true, 0)).toThrow(/trace limit 0: expected at least 1 record/);
    expect(() => new TraceSink(true, 5, () => undefined)).toThrow(/either streams .* or keeps the last/);
  });

  it("a disabled sink records nothing", () => {
    const s = new TraceSink(false, 3);
    fill(s, 5);
    expect(s.written).toBe(0);
    expect(s.records).toEqual([]);
  });
});

describe("trace exporters", () => {
  const trace = new TraceSink(true);
  const { report } = runWorkload({ cpus: 8, seed: 5, arch: generic, workload: "mixed", ops: 40, trace });

  it("the streaming Chrome writer produces exactly the JSON of toChromeTrace", () => {
    const meta = { cpus: 8, arch: "generic", seed: 5, report };
    const parts: string[] = [];
    const w = new ChromeTraceWriter(meta, (t) => parts.push(t));
    for (const r of trace.records) w.add(r);
    w.end(meta);
    expect(parts.length).toBeGreaterThan(trace.records.length);
    expect(parts.join("")).toBe(JSON.stringify(toChromeTrace(trace.records, meta)));
  });

  it("the ftrace header tells entries-in-buffer/entries-written", () => {
    const ring = new TraceSink(true, 100);
    runWorkload({ cpus: 8, seed: 5, arch: generic, workload: "mixed", ops: 40, trace: ring });
    expect(ring.written).toBe(trace.written);
    expect(ring.records).toEqual(trace.records.slice(-100));
    const text = toFtraceText(ring.records, { cpus: 8 }, ring.written);
    expect(text).toContain(`# entries-in-buffer/entries-written: 100/${trace.written}   #P:8\n`);
    expect(text.split("\n").filter((l) => !l.startsWith("#") && l !== "")).toHaveLength(100);
  });
});
