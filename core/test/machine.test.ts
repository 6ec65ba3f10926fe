import { describe, expect, it } from "@jest/globals";
import * as fc from "fast-check";
import {
  EventHeap,
  EV_CPU_RESUME,
  LatencyRecorder,
  Machine,
  Prng,
  Topology,
  makeCostModel,
  PredicateWait,
  FRAME_IDLE,
  FRAME_IRQ,
  FRAME_SLOTS,
  FRAME_TASK,
  F_KIND,
  F_LINE,
} from "@smpcall/core";
import { TEST_MAX_EVENTS, testSystem } from "./helpers";

describe("EventHeap", () => {
  it("pops in (time, seq) order and reuses slots", () => {
    const h = new EventHeap(2);
    const rng = new Prng(9);
    const pushed: [number, number][] = [];
    for (let i = 0; i < 500; i++) {
      const t = rng.int(50);
      h.push(t, EV_CPU_RESUME, i, 0);
      pushed.push([t, i]);
    }
    const order: number[] = [];
    for (let id = h.pop(); id >= 0; id = h.pop()) {
      order.push(h.cpu(id));
      h.release(id);
    }
    const expected = [...pushed].sort((a, b) => a[0] - b[0] || a[1] - b[1]).map((x) => x[1]);
    expect(order).toEqual(expected);
    h.push(1, EV_CPU_RESUME, 7, 0);
    expect(h.size).toBe(1);
  });

  it("removeAt keeps the heap ordered", () => {
    const h = new EventHeap();
    for (const t of [5, 1, 9, 3, 7]) h.push(t, EV_CPU_RESUME, t, 0);
    h.release(h.removeAt(2));
    const times: number[] = [];
    for (let id = h.pop(); id >= 0; id = h.pop()) times.push(h.time(id));
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(times).toHaveLength(4);
  });
});

describe("EventHeap against a sorted list (property)", () => {
  // Ops: push at a time (few distinct times, so chains form), pop, removeAt a position, cancel.
  const op = fc.oneof(
    fc.record({ push: fc.integer({ min: 0, max: 6 }), repeat: fc.integer({ min: 1, max: 5 }) }),
    fc.constant({ pop: true }),
    fc.record({ removeAt: fc.nat() }),
  );
  it("pops, peeks and removes exactly as (time, seq) order says", () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 300 }), (ops) => {
        const h = new EventHeap(1);
        let model: { id: number; t: number; seq: number }[] = [];
        let seq = 0;
        const sorted = () => [...model].sort((a, b) => a.t - b.t || a.seq - b.seq);
        for (const o of ops) {
          if ("push" in o) {
            for (let r = 0; r < o.repeat; r++)
              model.push({ id: h.push(o.push, EV_CPU_RESUME, seq, 0), t: o.push, seq: seq++ });
          } else if ("pop" in o) {
            const want = sorted()[0];
            const id = h.pop();
            if (want === undefined) expect(id).toBe(-1);
            else {
              expect(h.cpu(id)).toBe(want.seq);
              model = model.filter((m) => m.id !== id);
              h.release(id);
            }
          } else if (model.length > 0) {
            const i = o.removeAt % h.size;
            const id = h.removeAt(i);
            expect(model.some((m) => m.id === id)).toBe(true);
            model = model.filter((m) => m.id !== id);
            h.release(id);
          }
          expect(h.size).toBe(model.length);
          const first = sorted()[0];
          expect(h.peek() === -1 ? -1 : h.cpu(h.peek())).toBe(first === undefined ? -1 : first.seq);
          expect(model.length === 0 || h.idAt(0) === h.peek()).toBe(true);
          const ids = Array.from({ length: h.size }, (_, i) => h.idAt(i)).sort((a, b) => a - b);
          expect(ids).toEqual(model.map((m) => m.id).sort((a, b) => a - b));
        }
      }),
      { numRuns: 300, seed: 42 },
    );
  });
});

/**
 * The chained heap as first written (ids into parallel arrays, heap positions of ids): the
 * position order `idAt` gives, which random and search choosers pick from, must not depend on how
 * EventHeap lays its memory out.
 */
class ReferenceChainedHeap {
  private ev: { t: number; s: number; next: number; prev: number; pos: number }[] = [];
  private heap: number[] = [];
  private tail = -1;
  private seq = 0;
  size = 0;
  private less(x: number, y: number): boolean {
    const a = this.ev[x],
      b = this.ev[y];
    return a.t < b.t || (a.t === b.t && a.s < b.s);
  }
  private place(i: number, id: number): void {
    this.heap[i] = id;
    this.ev[id].pos = i;
  }
  private up(i: number, id: number): number {
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(id, this.heap[p])) break;
      this.place(i, this.heap[p]);
      i = p;
    }
    this.place(i, id);
    return i;
  }
  private down(i: number, id: number): number {
    const n = this.heap.length;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      if (c + 1 < n && this.less(this.heap[c + 1], this.heap[c])) c++;
      if (!this.less(this.heap[c], id)) break;
      this.place(i, this.heap[c]);
      i = c;
    }
    this.place(i, id);
    return i;
  }
  push(t: number, id: number): void {
    this.ev[id] = { t, s: this.seq++, next: -1, prev: -1, pos: -1 };
    const tail = this.tail;
    if (tail !== -1 && this.ev[tail].t === t) {
      this.ev[tail].next = id;
      this.ev[id].prev = tail;
    } else {
      this.heap.push(-1);
      this.up(this.heap.length - 1, id);
    }
    this.tail = id;
    this.size++;
  }
  order(): number[] {
    const out: number[] = [];
    for (const h of this.heap) for (let id = h; id !== -1; id = this.ev[id].next) out.push(id);
    return out;
  }
  remove(id: number): void {
    const e = this.ev[id];
    if (id === this.tail) this.tail = -1;
    if (e.prev !== -1) {
      this.ev[e.prev].next = e.next;
      if (e.next !== -1) this.ev[e.next].prev = e.prev;
    } else if (e.next !== -1) {
      this.ev[e.next].prev = -1;
      this.place(e.pos, e.next);
    } else {
      const last = this.heap.pop()!;
      if (e.pos < this.heap.length) this.up(this.down(e.pos, last), last);
    }
    this.size--;
  }
}

describe("EventHeap position order", () => {
  it("idAt lists events in the order of the reference chained heap after any pushes, pops and removals", () => {
    const op = fc.oneof(
      fc.record({ push: fc.integer({ min: 0, max: 8 }), repeat: fc.integer({ min: 1, max: 4 }) }),
      fc.constant({ pop: true }),
      fc.record({ removeAt: fc.nat() }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 400 }), (ops) => {
        const h = new EventHeap(1);
        const ref = new ReferenceChainedHeap();
        let clock = 0;
        for (const o of ops) {
          if ("push" in o) {
            for (let r = 0; r < o.repeat; r++)
              ref.push(clock + o.push, h.push(clock + o.push, EV_CPU_RESUME, 0, 0));
          } else if ("pop" in o) {
            const id = h.pop();
            if (id >= 0) {
              expect(ref.order()[0]).toBe(id);
              clock = h.time(id);
              ref.remove(id);
              h.release(id);
            }
          } else if (h.size > 0) {
            const i = o.removeAt % h.size;
            const id = h.removeAt(i);
            expect(ref.order()[i]).toBe(id);
            ref.remove(id);
            h.release(id);
          }
          expect(Array.from({ length: h.size }, (_, i) => h.idAt(i))).toEqual(ref.order());
        }
      }),
      { numRuns: 300, seed: 7 },
    );
  });
});

describe("Prng", () => {
  it("is deterministic per seed and forks independent streams", () => {
    const a = new Prng(123),
      b = new Prng(123),
      c = new Prng(124);
    const xs = Array.from({ length: 5 }, () => a.nextU32());
    expect(Array.from({ length: 5 }, () => b.nextU32())).toEqual(xs);
    expect(Array.from({ length: 5 }, () => c.nextU32())).not.toEqual(xs);
    expect(new Prng(1).fork("x").nextU32()).toBe(new Prng(1).fork("x").nextU32());
    expect(new Prng(1).fork("x").nextU32()).not.toBe(new Prng(1).fork("y").nextU32());
    expect(Prng.seedFrom("42")).toBe(42);
  });
});

describe("Topology and cost model", () => {
  it("maps CPUs to threads, cores, packages and nodes", () => {
    const t = new Topology(64, { threadsPerCore: 2, coresPerPackage: 8, packagesPerNode: 2 });
    expect([t.coreOf(5), t.threadOf(5), t.packageOf(17), t.nodeOf(33)]).toEqual([2, 1, 1, 1]);
    expect(t.sameCore(4, 5)).toBe(true);
    expect(t.nrNodes).toBe(2);
    expect(() => new Topology(4, { threadsPerCore: 0 })).toThrow(/threadsPerCore/);
  });
  it("numbers CPUs cores first: every core's first thread, then the siblings (x86 enumeration order)", () => {
    const t = new Topology(10, { threadsPerCore: 2, coresPerPackage: 4, numbering: "cores-first" });
    expect(t.nrCores).toBe(5);
    expect(Array.from({ length: 10 }, (_, c) => `${t.coreOf(c)}.${t.threadOf(c)}`)).toEqual([
      "0.0",
      "1.0",
      "2.0",
      "3.0",
      "4.0",
      "0.1",
      "1.1",
      "2.1",
      "3.1",
      "4.1",
    ]);
    expect([t.sameCore(0, 5), t.sameCore(0, 1), t.packageOf(4), t.packageOf(9), t.coreInPackage(9)]).toEqual([
      true,
      false,
      1,
      1,
      0,
    ]);
    expect([t.cpuOf(3, 1), t.cpuOf(3, 0), t.cpuOf(5, 0)]).toEqual([8, 3, -1]);
    // An odd count: the last core has one thread.
    const odd = new Topology(5, { threadsPerCore: 2, numbering: "cores-first" });
    expect([odd.coreOf(4), odd.threadOf(4), odd.cpuOf(2, 1)]).toEqual([1, 1, -1]);
    expect(t.describe()).toBe(
      "10 CPUs: 2 package(s) x 4 core(s) x 2 thread(s), 2 NUMA node(s), CPUs numbered cores first",
    );
    expect(() => new Topology(4, { numbering: "random" as never })).toThrow(/numbering must be/);
  });
  it("rejects negative costs", () => {
    expect(() => makeCostModel({ irqEntryNs: -1 })).toThrow(/irqEntryNs/);
  });
});

describe("Machine", () => {
  it("test systems run under an event budget: a livelock ends as a step limit, a test's own limit wins", () => {
    const spin = function* () {
      for (;;) yield 10;
    };
    const sys = testSystem(2);
    sys.spawn(1, spin());
    const out = sys.run();
    expect(out.status).toBe("step-limit");
    expect(out.problems[0].message).toContain(`step limit of ${TEST_MAX_EVENTS} events reached`);
    const own = testSystem(2).spawn(1, spin()).run({ maxEvents: 1000 });
    expect(own.status).toBe("step-limit");
    expect(own.problems[0].message).toContain("step limit of 1000 events reached");
  });

  it("rejects machines outside 2..8192 CPUs", () => {
    expect(() => new Machine({ cpus: 1 })).toThrow(/2\.\.8192/);
    expect(() => new Machine({ cpus: 8193 })).toThrow(/2\.\.8192/);
  });

  it("blocks a wait until whoever changes its condition wakes it; unwoken, the machine reports a deadlock", () => {
    for (const wakeIt of [true, false]) {
      const m = new Machine({ cpus: 2 });
      let flag = false;
      let sawAt = -1;
      const w = new PredicateWait(() => flag, "flag", 0);
      m.spawn(
        0,
        (function* () {
          yield 1000;
          flag = true;
          if (wakeIt) m.wake(w);
        })(),
      );
      m.spawn(
        1,
        (function* () {
          yield w;
          sawAt = m.now;
        })(),
      );
      const out = m.run({ maxEvents: 100 });
      if (wakeIt) {
        expect(out.status).toBe("completed");
        expect(sawAt).toBeGreaterThanOrEqual(1000);
      } else {
        expect(out.status).toBe("deadlock");
        expect(out.deadlock!.cpus).toEqual([
          expect.objectContaining({ cpu: 1, waitsFor: "flag", holder: 0 }),
        ]);
        expect(sawAt).toBe(-1);
      }
    }
  });

  it("a raise's sentAfterNs is exact and only its delay is jittered", () => {
    const arrivals: number[] = [];
    for (let seed = 1; seed <= 30; seed++) {
      const m = new Machine({ cpus: 2, seed, cost: { deliveryJitter: 0.1 } });
      m.setInterruptHandler(
        function* () {
          arrivals.push(m.now);
          yield 0;
        },
        (l) => `line ${l}`,
      );
      m.spawn(
        0,
        (function* () {
          yield 1;
          m.raise(1, 0, 1000, 5000);
          yield 10_000;
        })(),
      );
      m.spawn(
        1,
        (function* () {
          for (let i = 0; i < 2000; i++) yield 10;
        })(),
      );
      m.run();
    }
    // Sent at 1 + 5000, then 1000 ns ± 10%; taken at the next 10-ns step boundary, the handler
    // running after the 300-ns interrupt entry.
    expect(Math.min(...arrivals)).toBeGreaterThanOrEqual(1 + 5000 + 900 + 300);
    expect(Math.max(...arrivals)).toBeLessThanOrEqual(1 + 5000 + 1100 + 10 + 300);
    expect(new Set(arrivals).size).toBeGreaterThan(5); // the latency does vary
  });

  it("trap lines are taken with interrupts disabled, never nested in a trap; other lines wait; a raise in flight is not pending", () => {
    const m = new Machine({ cpus: 2, cost: { deliveryJitter: 0 } });
    m.setTrapLines(1 << 0);
    const taken: string[] = [];
    let nested = false;
    let inTrap = false;
    m.setInterruptHandler(
      function* (cpu, line) {
        taken.push(`${cpu}:${line}@${m.now}`);
        if (inTrap) nested = true;
        if (cpu === 0 && line === 0 && taken.length === 1) {
          inTrap = true;
          m.raise(cpu, 0, 0); // a second trap while in the first: taken after it returns
          yield 100;
          inTrap = false;
        }
      },
      (l) => `line ${l}`,
    );
    const pending: boolean[] = [];
    let enabledAt = -1;
    m.spawn(
      0,
      (function* () {
        m.localIrqDisable();
        m.raise(1, 0, 500);
        m.raise(0, 0, 0);
        m.raise(0, 3, 0);
        pending.push(m.isPending(1, 0)); // in flight
        for (let i = 0; i < 20; i++) yield 100;
        pending.push(m.isPending(0, 3), m.isPending(0, 0));
        enabledAt = m.now;
        m.localIrqEnable();
        yield 10;
      })(),
    );
    expect(m.run().status).toBe("completed");
    expect(pending).toEqual([false, true, false]);
    expect(nested).toBe(false);
    // CPU 0 takes both traps with interrupts off, one after the other (entry 300, exit 200);
    // line 3 only after interrupts are enabled.
    const cpu0 = taken.filter((t) => t.startsWith("0:"));
    expect(cpu0.slice(0, 2)).toEqual(["0:0@400", "0:0@1000"]);
    expect(cpu0[2]).toMatch(/^0:3@/);
    expect(Number(cpu0[2].split("@")[1])).toBeGreaterThan(enabledAt);
    expect(taken).toContain("1:0@1300"); // halted idle CPU 1: arrival 500 + halt exit 500 + entry 300
  });

  it("holdTraps: a held CPU takes no trap line until released; it needs interrupts disabled and a boolean", () => {
    const m = new Machine({ cpus: 2, cost: { deliveryJitter: 0 } });
    m.setTrapLines(1 << 0);
    const taken: number[] = [];
    m.setInterruptHandler(
      function* () {
        taken.push(m.now);
        yield 0;
      },
      (l) => `line ${l}`,
    );
    const refused: string[] = [];
    m.spawn(
      0,
      (function* () {
        try {
          m.holdTraps(true); // interrupts still enabled
        } catch (e) {
          refused.push((e as Error).message);
        }
        try {
          m.holdTraps(1 as unknown as boolean);
        } catch (e) {
          refused.push((e as Error).message);
        }
        m.localIrqDisable();
        m.holdTraps(true);
        m.raise(0, 0, 100);
        for (let i = 0; i < 10; i++) yield 100; // the trap arrives at 100: held
        expect(m.cpus[0].trapsHeld).toBe(true);
        m.holdTraps(false);
        yield 10; // taken at this step boundary, interrupts still disabled
        m.localIrqEnable();
      })(),
    );
    expect(m.run().status).toBe("completed");
    // Released at 1000: taken after that step (1010), the handler after the entry cost (300).
    expect(taken).toEqual([1310]);
    expect(refused[0]).toMatch(/holdTraps\(true\) with interrupts "enabled"; disable them first/);
    expect(refused[1]).toMatch(/called holdTraps with 1; pass true or false/);
  });

  it("a wait that countsAsBusy is busy time, not spin time", () => {
    class Hardware extends PredicateWait {
      override get countsAsBusy(): boolean {
        return true;
      }
    }
    const m = new Machine({ cpus: 2, cost: { deliveryJitter: 0 } });
    let done = false;
    const w = new Hardware(() => done, "hardware");
    m.schedule(5000, () => {
      done = true;
      m.wake(w);
    });
    m.spawn(
      0,
      (function* () {
        yield 100;
        yield w;
      })(),
    );
    expect(m.run().status).toBe("completed");
    expect(m.cpus[0].spinNs).toBe(0);
    expect(m.cpus[0].busyNs).toBe(100 + 4900 + m.cost.spinWakeNs);
  });

  /**
   * CPU 0, interrupts off, raises line 3 at itself (and, with `alsoCpu1`, at CPU 1) with no delay,
   * notes whether each is pending at once and after a step of 100, then turns interrupts on.
   */
  function selfRaise(chooser?: ConstructorParameters<typeof Machine>[0]["chooser"], alsoCpu1 = false) {
    const m = new Machine({ cpus: 2, cost: { deliveryJitter: 0 }, chooser });
    const taken: string[] = [];
    m.setInterruptHandler(
      function* (cpu, line) {
        taken.push(`${cpu}:${line}@${m.now}`);
        yield 0;
      },
      (l) => `line ${l}`,
    );
    const pending: boolean[] = [];
    m.spawn(
      0,
      (function* () {
        m.localIrqDisable();
        m.raise(0, 3, 0);
        if (alsoCpu1) m.raise(1, 3, 0);
        pending.push(m.isPending(0, 3), m.isPending(1, 3));
        yield 100;
        pending.push(m.isPending(0, 3), m.isPending(1, 3));
        m.localIrqEnable();
        yield 10;
      })(),
    );
    return { status: m.run().status, pending, taken, raisesReceived: m.cpus[0].raisesReceived };
  }

  it("a CPU's raise of its own line with no delay is pending at once (no event in a run); at another CPU it is still in flight", () => {
    const r = selfRaise(undefined, true);
    expect(r.status).toBe("completed");
    expect(r.pending).toEqual([true, false, true, true]);
    // Taken at CPU 0's first step with interrupts on (t=110) after the entry cost (300), as a
    // queued raise landing at t=0 was; CPU 1, halted, after its halt exit (500) and entry.
    expect(r.taken).toEqual(["0:3@410", "1:3@800"]);
    expect(r.raisesReceived).toBe(1);
  });

  it("under a chooser that picks events itself (the explorer's kind), a CPU's own zero-delay raise stays an event: when it lands is a choice", () => {
    const picked: number[] = [];
    const r = selfRaise({
      name: "first-offered",
      earliestFirst: false,
      pickEvent: (heap: EventHeap) => {
        picked.push(heap.size);
        return 0;
      },
      chooseInt: () => 0,
      chance: () => false,
    });
    expect(r.status).toBe("completed");
    expect(r.pending).toEqual([false, false, true, false]);
    expect(r.taken).toEqual(["0:3@410"]);
    // When CPU 0 yielded 100, its resume and the raise were both pending: a choice was offered.
    expect(Math.max(...picked)).toBeGreaterThanOrEqual(2);
  });

  it("nests interrupts four frames deep: each frame keeps its kind, line, saved irqs and wait, and unwinds in order", () => {
    const m = new Machine({ cpus: 2, cost: { deliveryJitter: 0 } });
    const c0 = m.cpus[0];
    let flag = false;
    const flagWait = new PredicateWait(() => flag, "flag", 1);
    const frames: string[] = [];
    const view: string[] = [];
    const irqsAfter: boolean[] = [];
    let deepWaitSince = -1;
    m.setInterruptHandler(
      function* (_cpu, line) {
        if (line > 1) {
          // Interrupts on inside the handler, and the next line raised on itself: it nests.
          m.localIrqEnable();
          m.raise(0, line - 1, 0);
          yield 50;
          irqsAfter.push(c0.irqsDisabled);
          return;
        }
        for (let i = 0; i < c0.depth; i++) frames.push(`${c0.frameKind(i)}.${c0.frameLine(i)}`);
        const st = c0.stack;
        for (let i = 0; i < c0.depth; i++)
          view.push(`${String(st[i * FRAME_SLOTS + F_KIND])}.${String(st[i * FRAME_SLOTS + F_LINE])}`);
        // Block in the deepest frame until CPU 1 sets the flag: its wait is frame 3's.
        yield flagWait;
        deepWaitSince = c0.depth === 4 && c0.frameWait(3) === null ? m.now : -2;
      },
      (l) => `line ${l}`,
    );
    m.spawn(
      0,
      (function* () {
        m.raise(0, 3, 0);
        yield 10;
        irqsAfter.push(c0.irqsDisabled);
      })(),
    );
    m.spawn(
      1,
      (function* () {
        yield 20_000;
        flag = true;
        m.wake(flagWait);
      })(),
    );
    expect(m.run({ maxEvents: 10_000 }).status).toBe("completed");
    expect(frames).toEqual([`${FRAME_TASK}.-1`, `${FRAME_IRQ}.3`, `${FRAME_IRQ}.2`, `${FRAME_IRQ}.1`]);
    expect(view).toEqual(frames);
    expect(deepWaitSince).toBeGreaterThanOrEqual(20_000);
    // Each handler returns with interrupts on (it enabled them); the task gets back its own state.
    expect(irqsAfter).toEqual([false, false, false]);
    // Then the CPU idles: one frame again, the idle loop's, halted.
    expect(c0.depth).toBe(1);
    expect(c0.frameKind(0)).toBe(FRAME_IDLE);
    expect(c0.frameWait(0)?.wakesOnInterrupt).toBe(true);
    expect(c0.stack).toHaveLength(FRAME_SLOTS);
  });

  it("smpProcessorId outside CPU code is an error that says what to do", () => {
    expect(() => new Machine({ cpus: 2 }).smpProcessorId()).toThrow(/inside a program passed to spawn/);
  });
});

describe("LatencyRecorder", () => {
  it("gives exact nearest-rank percentiles across the counted and the large range", () => {
    const r = new LatencyRecorder();
    const xs = [5, 1, 70_000, 3, 3, 200_000, 65_535, 65_536, 9, 2_097_151, 2_097_152, 5_000_000, 90_000];
    for (const x of xs) r.record(x);
    const sorted = [...xs].sort((a, b) => a - b);
    for (const p of [0, 10, 50, 90, 99, 100]) {
      expect(r.percentile(p)).toBe(
        sorted[Math.min(xs.length - 1, Math.max(0, Math.ceil((p / 100) * xs.length) - 1))],
      );
    }
    expect(r.count).toBe(xs.length);
    expect(r.mean()).toBeCloseTo(xs.reduce((a, b) => a + b) / xs.length);
    expect(new LatencyRecorder().percentile(50)).toBe(0);
  });

  it("matches a sorted copy for any samples, queried between batches (growth boundaries, many large samples)", () => {
    const sample = fc.oneof(
      fc.integer({ min: 0, max: 600 }),
      fc.constantFrom(255, 256, 257, 511, 512, 1023, 1024, 2_097_152),
      fc.integer({ min: 2_000_000, max: 50_000_000 }),
    );
    fc.assert(
      fc.property(
        fc.array(fc.array(sample, { maxLength: 120 }), { minLength: 1, maxLength: 4 }),
        (batches) => {
          const r = new LatencyRecorder();
          const all: number[] = [];
          for (const batch of batches) {
            for (const x of batch) r.record(x);
            all.push(...batch);
            const sorted = [...all].sort((a, b) => a - b);
            for (const p of [0, 1, 25, 50, 75, 99, 100]) {
              const want = all.length === 0 ? 0 : sorted[Math.max(0, Math.ceil((p / 100) * all.length) - 1)];
              expect([p, r.percentile(p)]).toEqual([p, want]);
            }
            expect(r.count).toBe(all.length);
            expect(r.mean()).toBe(all.length === 0 ? 0 : all.reduce((a, b) => a + b, 0) / all.length);
          }
        },
      ),
      { numRuns: 60, seed: 17 },
    );
    // More large samples than the large array first holds (64), recorded in descending order.
    const r = new LatencyRecorder();
    for (let i = 300; i >= 1; i--) r.record(3_000_000 + i);
    expect([r.percentile(0), r.percentile(50), r.percentile(100), r.count]).toEqual([
      3_000_001, 3_000_150, 3_000_300, 300,
    ]);
  });

  it("stays exact on many samples in the range a 1024-CPU broadcast produces (85-110 us)", () => {
    const r = new LatencyRecorder();
    const xs: number[] = [];
    let x = 12345;
    for (let i = 0; i < 20_000; i++) {
      x = (x * 1103515245 + 12345) % 2147483648;
      xs.push(85_000 + (x % 25_000));
    }
    for (const v of xs) r.record(v);
    const sorted = [...xs].sort((a, b) => a - b);
    for (const p of [1, 50, 99, 100])
      expect(r.percentile(p)).toBe(sorted[Math.ceil((p / 100) * xs.length) - 1]);
  });
});
