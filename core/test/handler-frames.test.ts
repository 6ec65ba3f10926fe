import { describe, expect, it } from "@jest/globals";
import type { CpuCode } from "@smpcall/core";
import { HandlerFramePool } from "@smpcall/core";

/** A flush stand-in: yields its steps, then records that it finished. */
function* steps(log: string[], name: string, costs: number[]): CpuCode<void> {
  for (const c of costs) {
    log.push(`${name} step ${c}`);
    yield c;
  }
  log.push(`${name} done`);
}

describe("HandlerFramePool (hand-stepped interrupt handler frames)", () => {
  it("runs the handler's work at the first step, not when the frame is made, then steps its flush", () => {
    const log: string[] = [];
    const pool = new HandlerFramePool((cpu, line) => {
      log.push(`begin ${cpu}/${line}`);
      return line === 0 ? null : steps(log, `flush ${cpu}`, [5, 7]);
    });
    const f = pool.frame(3, 2);
    expect(log).toEqual([]);
    expect(f.next()).toEqual({ done: false, value: 5 });
    expect(f.next()).toEqual({ done: false, value: 7 });
    expect(f.next().done).toBe(true);
    expect(log).toEqual(["begin 3/2", "flush 3 step 5", "flush 3 step 7", "flush 3 done"]);
    // A finished frame stays finished (and goes back to the pool once).
    expect(f.next().done).toBe(true);
    expect(pool.idle).toBe(1);
    // A handler with no flush finishes at its first step.
    const g = pool.frame(4, 0);
    expect(g).toBe(f);
    expect(pool.idle).toBe(0);
    expect(g.next().done).toBe(true);
    expect(log.at(-1)).toBe("begin 4/0");
    expect(pool.idle).toBe(1);
  });

  it("frames in flight at once are distinct; a finished one is reused, the last freed first", () => {
    const log: string[] = [];
    const pool = new HandlerFramePool((cpu) => steps(log, `cpu ${cpu}`, [1]));
    const a = pool.frame(1, 2);
    const b = pool.frame(2, 2);
    expect(a).not.toBe(b);
    a.next();
    b.next();
    expect(b.next().done).toBe(true);
    expect(a.next().done).toBe(true);
    expect(pool.idle).toBe(2);
    expect(pool.frame(5, 2)).toBe(a);
    expect(pool.frame(6, 2)).toBe(b);
    expect(pool.frame(7, 2)).not.toBe(a);
  });

  it("return() closes the flush and the frame; throw() rethrows; neither is reused while referenced", () => {
    const log: string[] = [];
    const pool = new HandlerFramePool(() => steps(log, "f", [1, 2]));
    const f = pool.frame(0, 2);
    f.next();
    expect(f.return()).toEqual({ done: true, value: undefined });
    expect(f.next().done).toBe(true);
    expect(log).toEqual(["f step 1"]); // the flush was closed, never finished
    expect(pool.idle).toBe(0);
    const g = pool.frame(0, 2);
    expect(() => g.throw(new Error("boom"))).toThrow("boom");
    expect(g.next().done).toBe(true);
    expect(pool.idle).toBe(0);
    expect([...pool.frame(1, 2)]).toEqual([1, 2]);
  });
});
