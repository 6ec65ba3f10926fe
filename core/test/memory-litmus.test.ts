import { describe, expect, it } from "@jest/globals";
import { LITMUS_TESTS, MEMORY_MODELS, createSharedMemory, runLitmus, type LitmusTest } from "@smpcall/core";

/** Every outcome two 0/1 registers can take. */
const ALL = ["00", "01", "10", "11"];

function reached(test: LitmusTest, model: (typeof MEMORY_MODELS)[number]): string[] {
  const { outcomes } = runLitmus(test, model);
  return [...outcomes.keys()].map((k) => k.replace(/r\d=/g, "").replace(" ", "")).sort();
}

describe("litmus suite (kernel-smp.md §12), exhaustively under each memory model", () => {
  for (const test of LITMUS_TESTS) {
    for (const model of MEMORY_MODELS) {
      const expectedWeak = test.allowedBy[model];
      it(`${test.name} under ${model}: the weak outcome ${test.weakOutcome} is ${expectedWeak ? "reached" : "never reached"}`, () => {
        const { outcomes, executions } = runLitmus(test, model);
        expect(executions).toBeGreaterThan(1);
        expect(outcomes.has(test.weakOutcome)).toBe(expectedWeak);
        // Every other outcome is reachable under every model (each is an SC interleaving).
        const weak = test.weakOutcome.replace(/r\d=/g, "").replace(" ", "");
        expect(reached(test, model)).toEqual(ALL.filter((o) => o !== weak || expectedWeak));
      });
    }
  }

  it("every §12 verdict is reproduced under lkmm, load buffering included (a store run ahead of an unordered load)", () => {
    const misses = LITMUS_TESTS.filter(
      (t) => runLitmus(t, "lkmm").outcomes.has(t.weakOutcome) !== t.allowedBy.lkmm,
    ).map((t) => t.name);
    expect(misses).toEqual([]);
    // The store moves only past loads of other locations, never past a barrier or an acquire.
    const lbMb: LitmusTest = {
      name: "LB+mb",
      threads: [
        [
          { op: "load", loc: "x", reg: "r0" },
          { op: "barrier", kind: "mb" },
          { op: "store", loc: "y", value: 1 },
        ],
        [
          { op: "load", loc: "y", reg: "r1" },
          { op: "barrier", kind: "mb" },
          { op: "store", loc: "x", value: 1 },
        ],
      ],
      weakOutcome: "r0=1 r1=1",
      allowedBy: { sc: false, tso: false, lkmm: false },
    };
    expect(runLitmus(lbMb, "lkmm").outcomes.has("r0=1 r1=1")).toBe(false);
    const sameLoc: LitmusTest = {
      name: "load then store to the same location",
      threads: [
        [
          { op: "load", loc: "x", reg: "r0" },
          { op: "store", loc: "x", value: 1 },
        ],
      ],
      weakOutcome: "r0=1",
      allowedBy: { sc: false, tso: false, lkmm: false },
    };
    expect([...runLitmus(sameLoc, "lkmm").outcomes.keys()]).toEqual(["r0=0"]);
  });
});

describe("memory models, access by access", () => {
  const first = { chooseInt: () => 0 };

  it("tso: a CPU reads its own buffered store; others see it only after it drains, in FIFO order", () => {
    const m = createSharedMemory("tso", 2, first);
    const x = m.location("x", 0);
    const y = m.location("y", 0);
    m.store(0, x, 1);
    m.store(0, y, 2);
    expect(m.load(0, x)).toBe(1);
    expect(m.load(1, x)).toBe(0);
    expect(m.pendingDrains(0)).toBe(2);
    m.drainOne(0);
    expect([m.load(1, x), m.load(1, y)]).toEqual([1, 0]);
    m.barrier(0, "mb");
    expect(m.pendingDrains(0)).toBe(0);
    expect(m.load(1, y)).toBe(2);
  });

  it("tso: an RMW drains the buffer first and is atomic", () => {
    const m = createSharedMemory("tso", 2, first);
    const x = m.location("x", 5);
    m.store(0, x, 7);
    expect(m.rmw(0, x, (v) => v + 1)).toBe(7);
    expect(m.load(1, x)).toBe(8);
    expect(m.rmw(1, x, () => undefined)).toBe(8); // a failed cmpxchg writes nothing
    expect(m.finalValue(x)).toBe(8);
  });

  it("lkmm: a load may read any store not older than what its CPU has seen, and never goes back", () => {
    const picks: number[] = [];
    let next = 1;
    const m = createSharedMemory("lkmm", 2, {
      chooseInt: (n) => {
        picks.push(n);
        return Math.min(next, n - 1);
      },
    });
    const x = m.location("x", 0);
    m.store(0, x, 1);
    m.store(0, x, 2);
    expect(m.load(1, x)).toBe(1); // one older than the newest: the choice had 3 options
    expect(picks).toEqual([3]);
    next = 0;
    expect(m.load(1, x)).toBe(2);
    next = 5;
    expect(m.load(1, x)).toBe(2); // coherence: CPU 1 saw 2, so older stores are gone for it
    expect(m.load(0, x)).toBe(2); // a CPU always sees its own newest store
  });

  it("refuses an unknown model, a duplicate location and a location it never handed out", () => {
    expect(() => createSharedMemory("arm" as never, 2, first)).toThrow(
      /unknown memory model "arm": use sc, tso, lkmm/,
    );
    const m = createSharedMemory("sc", 2, first);
    m.location("x", 0);
    expect(() => m.location("x", 1)).toThrow(/memory location "x" exists already/);
    expect(() => m.load(0, 3)).toThrow(/no memory location 3 \(there are 1\)/);
  });
});
