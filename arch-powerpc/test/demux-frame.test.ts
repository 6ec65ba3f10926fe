import { describe, expect, it } from "@jest/globals";
import type { CpuCode } from "@smpcall/core";
import { DemuxFrame, type DemuxHost } from "../src/demux-frame";

/** A flush stand-in: yields its steps, then records that it finished. */
function* steps(log: string[], name: string, costs: number[]): CpuCode<void> {
  for (const c of costs) {
    log.push(`${name} step ${c}`);
    yield c;
  }
  log.push(`${name} done`);
}

/** A host whose message word is refilled from `passes` (one entry per fetch) and that logs every call. */
function host(log: string[], passes: number[], released: DemuxFrame[]): DemuxHost & { word: number } {
  const h = {
    word: passes.shift() ?? 0,
    acknowledge: (cpu: number, line: number) => void log.push(`ack ${cpu}/${line}`),
    fetchAndClear: () => {
      const all = h.word;
      h.word = passes.shift() ?? 0;
      log.push(`fetch ${all}`);
      return all;
    },
    wordSet: () => h.word !== 0,
    eoi: (cpu: number, line: number) => void log.push(`eoi ${cpu}/${line}`),
    handleMessage: (cpu: number, msg: number) => {
      log.push(`msg ${msg}`);
      return msg === 0 ? steps(log, `flush ${cpu}`, [5, 7]) : null;
    },
    release: (f: DemuxFrame) => void released.push(f),
  };
  return h;
}

describe("DemuxFrame (powerpc's hand-stepped smp_ipi_demux)", () => {
  it("acknowledges at its first step, handles the word's messages in bit order, and fetches again while the word is set", () => {
    const log: string[] = [];
    const released: DemuxFrame[] = [];
    // First pass: call function (bit 0) and reschedule (bit 1); a second pass finds NMI (bit 3).
    const f = new DemuxFrame(host(log, [0b0011, 0b1000], released)).reset(2, 1);
    expect(log).toEqual([]);
    expect(f.next()).toEqual({ done: false, value: 5 });
    expect(f.next()).toEqual({ done: false, value: 7 });
    expect(f.next().done).toBe(true);
    expect(log).toEqual([
      "ack 2/1",
      "fetch 3",
      "msg 0",
      "flush 2 step 5",
      "flush 2 step 7",
      "flush 2 done",
      "msg 1",
      "fetch 8",
      "msg 3",
      "eoi 2/1",
    ]);
    // Finished: released once, and stays finished.
    expect(released).toEqual([f]);
    expect(f.next().done).toBe(true);
    expect(released).toEqual([f]);
  });

  it("a reset frame starts over for another interrupt; one unwound by return() is not released", () => {
    const log: string[] = [];
    const released: DemuxFrame[] = [];
    const f = new DemuxFrame(host(log, [0b0001, 0, 0b0001], released)).reset(0, 0);
    expect(f.next()).toEqual({ done: false, value: 5 });
    expect(f.return().done).toBe(true);
    expect(log).toEqual(["ack 0/0", "fetch 1", "msg 0", "flush 0 step 5"]);
    expect(released).toEqual([]);
    expect(f.next().done).toBe(true);
    f.reset(1, 0);
    log.length = 0;
    expect(f.next()).toEqual({ done: false, value: 5 });
    expect(f.next()).toEqual({ done: false, value: 7 });
    expect(f.next().done).toBe(true);
    expect(log[0]).toBe("ack 1/0");
    expect(released).toEqual([f]);
  });

  it("throw() ends the frame and passes the error on", () => {
    const f = new DemuxFrame(host([], [1], [])).reset(0, 0);
    expect(() => f.throw(new Error("boom"))).toThrow("boom");
    expect(f.next().done).toBe(true);
  });
});
