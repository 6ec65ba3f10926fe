import { describe, expect, it } from "@jest/globals";
import { descriptor as generic } from "@smpcall/arch-generic";
import {
  formatRunReport,
  runWorkload,
  toChromeTrace,
  toFtraceText,
  TraceSink,
  WORKLOADS,
} from "@smpcall/core";

function traced(seed: number, workload = "mixed") {
  const trace = new TraceSink(true);
  const r = runWorkload({ cpus: 8, seed, arch: generic, workload, trace });
  return { ...r, trace };
}

describe("determinism and trace export", () => {
  it("30: the same seed and configuration give a byte-identical trace and report", () => {
    for (const w of WORKLOADS) {
      const a = traced(42, w.name);
      const b = traced(42, w.name);
      expect(toFtraceText(a.trace.records, { cpus: 8 })).toBe(toFtraceText(b.trace.records, { cpus: 8 }));
      expect(JSON.stringify(a.report)).toBe(JSON.stringify(b.report));
      expect(formatRunReport(a.report)).toBe(formatRunReport(b.report));
    }
  });

  it("a different seed gives a different run", () => {
    expect(toFtraceText(traced(1).trace.records, { cpus: 8 })).not.toBe(
      toFtraceText(traced(2).trace.records, { cpus: 8 }),
    );
  });

  it("ftrace text has the kernel layout: task-pid, [CPU], flags, seconds, event: fields", () => {
    const { trace } = traced(3, "broadcast");
    const text = toFtraceText(trace.records, { cpus: 8, arch: "generic", seed: 3 });
    expect(text.startsWith("# tracer: nop\n")).toBe(true);
    expect(text).toMatch(
      /^ {10}<idle>-0 {7}\[00\d\] d\.h1\. +\d+\.\d{6}: csd_function_entry: func=broadcast_fn, csd=[0-9a-f]{16}$/m,
    );
    expect(text).toMatch(
      /^ {7}smpcall\/\d-100\d {4}\[00\d\] \.\.\.\.\. +\d+\.\d{6}: csd_queue_cpu: cpu=\d callsite=smp_call_function_many_cond func=broadcast_fn csd=[0-9a-f]{16}$/m,
    );
    expect(text).toMatch(/ipi_entry: \(Function call interrupts\)/);
    expect(text).toMatch(
      /ipi_send_cpumask: cpumask=[0-9a-f]{8},[0-9a-f]{8} callsite=smp_call_function_many_cond callback=generic_smp_call_function_single_interrupt/,
    );
  });

  it("Chrome trace: one named track per CPU, balanced callback slices, IPI flows from raise to entry", () => {
    const { trace } = traced(4, "broadcast");
    const chrome = toChromeTrace(trace.records, { cpus: 8, arch: "generic", seed: 4 });
    const names = chrome.traceEvents.filter((e) => e.name === "thread_name").map((e) => e.args!.name);
    expect(names).toEqual(expect.arrayContaining(["CPU 0", "CPU 7"]));
    const b = chrome.traceEvents.filter((e) => e.cat === "callback" && e.ph === "B").length;
    const e = chrome.traceEvents.filter((x) => x.cat === "callback" && x.ph === "E").length;
    expect(b).toBe(e);
    expect(b).toBeGreaterThan(0);
    const starts = new Set(chrome.traceEvents.filter((x) => x.ph === "s").map((x) => x.id));
    const ends = chrome.traceEvents.filter((x) => x.ph === "f").map((x) => x.id);
    expect(ends.length).toBeGreaterThan(0);
    for (const id of ends) expect(starts.has(id)).toBe(true);
    expect(() => JSON.parse(JSON.stringify(chrome))).not.toThrow();
  });
});
