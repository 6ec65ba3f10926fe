import { describe, expect, it } from "@jest/globals";
import { descriptor as generic } from "@smpcall/arch-generic";
import {
  ARCH_IPI_RAISE,
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
    expect(() => new TraceSink(true, 0)).toThrow(/^trace limit must be a number of records >= 1, got 0$/);
    expect(() => new TraceSink(true, 5, () => undefined)).toThrow(/either streams .* or keeps the last/);
  });

  it("keepOnly turns other events away uncounted in written, and counts them in leftOut", () => {
    const s = new TraceSink(true, 3).keepOnly(new Set(["ipi_raise"]));
    fill(s, 5);
    for (let i = 0; i < 4; i++) s.emit(i, 0, STATE, "ipi_raise", { i });
    expect(s.records.map((r) => r.fields.i)).toEqual([1, 2, 3]);
    expect([s.written, s.dropped, s.leftOut]).toEqual([4, 1, 5]);
  });

  it("a disabled sink records nothing", () => {
    const s = new TraceSink(false, 3);
    fill(s, 5);
    expect(s.written).toBe(0);
    expect(s.records).toEqual([]);
  });
});

describe("trace exporters", () => {
  // Run inside each test that needs it, not at collection: code run outside a test is "static"
  // to StrykerJS's per-test coverage (every mutant it reaches would run the whole suite).
  const traced = () => {
    const trace = new TraceSink(true);
    const { report } = runWorkload({ cpus: 8, seed: 5, arch: generic, workload: "mixed", ops: 40, trace });
    return { trace, report };
  };

  it("the streaming Chrome writer produces exactly the JSON of toChromeTrace", () => {
    const { trace, report } = traced();
    const meta = { cpus: 8, arch: "generic", seed: 5, report };
    const parts: string[] = [];
    const w = new ChromeTraceWriter(meta, (t) => parts.push(t));
    for (const r of trace.records) w.add(r);
    w.end(meta);
    expect(parts.length).toBeGreaterThan(trace.records.length);
    expect(parts.join("")).toBe(JSON.stringify(toChromeTrace(trace.records, meta)));
  });

  it("the streaming Chrome writer matches toChromeTrace on every record shape, odd fields included", () => {
    const s = new TraceSink(true);
    const st = (irqs: boolean, depth: number) => ({ irqsDisabled: irqs, hardirqDepth: depth, idle: false });
    s.emit(0, 3, st(false, 0), "ipi_raise", { target_cpus: "1-2", reason: "x" }, 7);
    s.emit(5, 1, st(true, 1), "ipi_entry", { reason: 'Function "call" \\ interrupts' }, 7);
    s.emit(6, 1, st(true, 1), "csd_function_entry", { func: "f", csd: "00ab" });
    s.emit(7, 1, st(true, 1), "csd_function_exit", { func: "f", csd: "00ab" });
    s.emit(8, 1, st(true, 1), "ipi_exit", { reason: "r" });
    s.emit(9, 2, st(false, 0), "smpcall_csd_wait_begin", { waits_for: "csd#1 (f) queued", holder: 1 });
    s.emit(10, 2, st(false, 0), "smpcall_csd_wait_end", { waits_for: "csd#1 (f) queued", waited_ns: 1 });
    s.emit(11, 0, st(false, 0), "irq_disable", {});
    s.emit(12, 0, st(true, 0), "irq_enable", {});
    s.emit(13, 0, st(false, 0), "custom_empty", {});
    s.emit(14.5, 0, st(false, 0), "custom_text", { a: 1, text: "mine", b: "é\n" });
    s.emit(1234567, 4095, st(false, 0), "ipi_raise", { target_cpus: "0" }, 0);
    // Timestamps: the writer prints µs from whole ns without going through number-to-string.
    for (const ns of [
      0,
      1,
      10,
      100,
      999,
      1000,
      1001,
      1010,
      1100,
      123456789012,
      1e15 - 1,
      1e15,
      1e15 + 1,
      2 ** 53 - 1,
      0.5,
    ])
      s.emit(ns, 1, st(true, 1), "csd_function_exit", { func: "f", csd: "00ab" });
    const meta = { cpus: 4096, arch: "x" };
    const parts: string[] = [];
    const w = new ChromeTraceWriter(meta, (t) => parts.push(t));
    for (const r of s.records) w.add(r);
    w.end(meta);
    expect(parts.join("")).toBe(JSON.stringify(toChromeTrace(s.records, meta)));
  });

  it("the ftrace header tells entries-in-buffer/entries-written", () => {
    const { trace } = traced();
    const ring = new TraceSink(true, 100);
    runWorkload({ cpus: 8, seed: 5, arch: generic, workload: "mixed", ops: 40, trace: ring });
    expect(ring.written).toBe(trace.written);
    expect(ring.records).toEqual(trace.records.slice(-100));
    const text = toFtraceText(ring.records, { cpus: 8 }, ring.written);
    expect(text).toContain(`# entries-in-buffer/entries-written: 100/${trace.written}   #P:8\n`);
    expect(text.split("\n").filter((l) => !l.startsWith("#") && l !== "")).toHaveLength(100);
  });
});

describe("ftrace export of an arch's own ipi_raise (ARCH_IPI_RAISE)", () => {
  const sink = new TraceSink(true);
  sink.emit(1000, 0, STATE, ARCH_IPI_RAISE, { target_cpus: "1-3,65", reason: "Function call interrupts" });
  sink.emit(2000, 0, STATE, "ipi_raise", { target_cpus: 1, reason: "Function call interrupts" });

  it("a kernel profile's export prints it as ipi_raise with the whole mask, and keeps only what the arch declares", () => {
    const text = toFtraceText(sink.records, { cpus: 72, kernel: "6.1", archTracepoints: [ARCH_IPI_RAISE] });
    const lines = text.split("\n").filter((l) => l !== "" && !l.startsWith("#"));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /: ipi_raise: target_mask=00000000,00000002,00000000,0000000e \(Function call interrupts\)$/,
    );
  });

  it("without a profile both records stay under their own names", () => {
    const text = toFtraceText(sink.records, { cpus: 72 });
    expect(text).toMatch(/: arch_ipi_raise: target_mask=.*,0000000e \(Function call interrupts\)\n/);
    expect(text).toMatch(/: ipi_raise: target_mask=.*,00000002 \(Function call interrupts\)\n/);
  });
});
