import { describe, expect, it } from "@jest/globals";
import { MondoQueues } from "../src/mondo-queues";

describe("MondoQueues (per-CPU mondo queue blocks)", () => {
  it("is a FIFO per CPU across the ring's wrap, counts each entry taken, and keeps CPUs apart", () => {
    const q = new MondoQueues(3, 3);
    q.push(1, 2);
    q.push(1, 0);
    expect(q.take(1)).toBe(2); // head 1, one entry left: the next push wraps to slot 0
    q.push(1, 1);
    q.push(1, 2);
    expect(q.full(1)).toBe(true);
    expect(q.queued(1)).toBe(3);
    expect([q.take(1), q.take(1), q.take(1)]).toEqual([0, 1, 2]);
    expect(q.queued(1)).toBe(0);
    expect(q.counter(1)).toBe(4);
    // The neighbours' blocks are untouched.
    expect([q.queued(0), q.queued(2), q.counter(0), q.counter(2)]).toEqual([0, 0, 0, 0]);
  });

  it("the last CPU's block holds a full ring of the deepest queue (4096 entries)", () => {
    const q = new MondoQueues(4, 4096);
    for (let i = 0; i < 4096; i++) q.push(3, i % 3);
    expect(q.full(3)).toBe(true);
    expect(q.queued(2)).toBe(0);
    let ok = true;
    for (let i = 0; i < 4096; i++) ok &&= q.take(3) === i % 3;
    expect(ok).toBe(true);
    expect(q.counter(3)).toBe(4096);
  });

  it("a softint bit coalesces until cleared; bits of other lines and CPUs are separate", () => {
    const q = new MondoQueues(2, 1);
    expect(q.setSoftint(0, 2)).toBe(true);
    expect(q.setSoftint(0, 2)).toBe(false);
    expect(q.setSoftint(0, 1)).toBe(true);
    expect(q.setSoftint(1, 2)).toBe(true);
    q.clearSoftint(0, 2);
    expect(q.setSoftint(0, 2)).toBe(true);
    expect(q.setSoftint(0, 1)).toBe(false);
    // Softint bits do not disturb the queue words beside them.
    q.push(0, 1);
    expect([q.queued(0), q.take(0), q.counter(0)]).toEqual([1, 1, 1]);
  });
});
