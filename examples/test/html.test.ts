import { describe, expect, it } from "@jest/globals";
import { descriptor as generic } from "@smpcall/arch-generic";
import { createSmpSystem, runWorkload, toChromeTrace, TraceSink } from "@smpcall/core";
import { buildTimeline, htmlDataFromChrome, renderHtmlReport, SPAN_KINDS } from "../src/html";

function deadlockRun() {
  const sys = createSmpSystem({ cpus: 3, seed: 1, arch: generic, trace: true, csdLockTimeoutMs: 0 });
  for (const [a, b] of [
    [0, 1],
    [1, 0],
  ])
    sys.spawn(
      a,
      (function* () {
        sys.machine.localIrqDisable();
        yield 10;
        yield* sys.kernel.smpCallFunctionSingle(b, function ack() {}, null, true);
      })(),
    );
  return { sys, out: sys.run() };
}

describe("HTML timeline: data model", () => {
  it("builds lanes of spans (irqs-off, irq, callback, spin) and IPI arrows from a run's trace", () => {
    const trace = new TraceSink(true);
    const { report } = runWorkload({ cpus: 8, seed: 2, arch: generic, workload: "mixed", ops: 120, trace });
    const t = buildTimeline(trace.records, 8);
    const kinds = new Set(t.spans.kind.map((k) => SPAN_KINDS[k]));
    for (const k of ["irq", "callback", "spin", "irqs-off"]) expect(kinds.has(k as never)).toBe(true);
    expect(t.spans.kind.filter((k) => SPAN_KINDS[k] === "callback")).toHaveLength(report.counts.callbacksRun);
    expect(t.arrows.from).toHaveLength(trace.count("ipi_entry"));
    for (let i = 0; i < t.arrows.from.length; i++)
      expect(t.arrows.deliver[i]).toBeGreaterThanOrEqual(t.arrows.send[i]);
    for (let i = 0; i < t.spans.start.length; i++)
      expect(t.spans.end[i]).toBeGreaterThanOrEqual(t.spans.start[i]);
    expect(t.saved.from).toHaveLength(report.counts.ipisSaved);
  });

  it("marks a deadlock: the cycle, who waits for whom, when no CPU could move; open spins run to the end", () => {
    const { sys, out } = deadlockRun();
    const t = buildTimeline(sys.trace.records, 3, out.deadlock);
    expect(t.deadlock).toMatchObject({ cycle: [0, 1], stalledAt: out.deadlock!.stalledAt });
    expect(t.deadlock!.waits.map((w) => [w.cpu, w.holder])).toEqual([
      [0, 1],
      [1, 0],
    ]);
    const spins = t.spans.lane
      .map((l, i) => [l, SPAN_KINDS[t.spans.kind[i]], t.spans.end[i]] as const)
      .filter(([, k]) => k === "spin");
    expect(spins.map(([l]) => l).sort()).toEqual([0, 1]);
    for (const [, , end] of spins) expect(end).toBe(t.endNs);
  });

  it("a saved Chrome trace rebuilds the same timeline, report and deadlock", () => {
    const { sys, out } = deadlockRun();
    const direct = buildTimeline(sys.trace.records, 3, out.deadlock);
    const fromChrome = htmlDataFromChrome(
      toChromeTrace(sys.trace.records, { cpus: 3, deadlock: out.deadlock }),
      "t",
    ).timeline;
    expect(fromChrome.spans.lane.length).toBe(direct.spans.lane.length);
    expect(fromChrome.arrows.from.length).toBe(direct.arrows.from.length);
    expect(fromChrome.deadlock?.cycle).toEqual([0, 1]);
  });

  it("the page is one self-contained file: no external resources, data inline and escaped", () => {
    const { sys, out } = deadlockRun();
    const html = renderHtmlReport({
      title: "t <x>",
      timeline: buildTimeline(sys.trace.records, 3, out.deadlock),
      report: null,
    });
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href=|https?:\/\//);
    expect(html).toContain('<canvas id="timeline">');
    expect(html).toContain("t &lt;x&gt;");
    const json = /<script type="application\/json" id="smpcall-data">([\s\S]*?)<\/script>/.exec(html)![1];
    expect(JSON.parse(json).timeline.deadlock.cycle).toEqual([0, 1]);
  });
});
