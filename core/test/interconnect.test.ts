import { describe, expect, it } from "@jest/globals";
import { descriptor as generic } from "@smpcall/arch-generic";
import {
  CallLedger,
  InvalidStepError,
  Machine,
  createSmpSystem,
  stateKey,
  type CpuCode,
} from "@smpcall/core";

/** A 4-CPU machine whose handler records `cpu:line` for every interrupt taken. */
function machineWithLog(counting: number): { m: Machine; taken: string[] } {
  const m = new Machine({ cpus: 4, cost: { deliveryJitter: 0 } });
  if (counting !== 0) m.setCountingLines(counting);
  const taken: string[] = [];
  m.setInterruptHandler(
    function* (cpu, line): CpuCode<void> {
      taken.push(`${cpu}:${line}`);
      yield 10;
    },
    (l) => `line ${l}`,
  );
  return { m, taken };
}

/** CPUs 1..3 each raise `line` at CPU 0 at the same instant, while CPU 0 has interrupts off. */
function threeSendersWhileMasked(m: Machine, line: number, counts: number[]): void {
  m.spawn(
    0,
    (function* (): CpuCode<void> {
      m.localIrqDisable();
      yield 5000;
      counts.push(m.pendingCount(0, line));
      m.localIrqEnable();
      yield 10;
    })(),
  );
  for (const src of [1, 2, 3])
    m.spawn(
      src,
      (function* (): CpuCode<void> {
        yield 100;
        m.raise(0, line, 200);
        counts.push(m.pendingCount(0, line)); // in flight: not counted yet
      })(),
    );
}

describe("counting lines and latch lines", () => {
  it("a counting line keeps N raises from N senders: N interrupts, none merged", () => {
    const { m, taken } = machineWithLog(1 << 2);
    const counts: number[] = [];
    threeSendersWhileMasked(m, 2, counts);
    expect(m.run().status).toBe("completed");
    expect(counts).toEqual([0, 0, 0, 3]);
    expect(taken.filter((t) => t === "0:2")).toHaveLength(3);
    expect(m.cpus[0].raisesMerged).toBe(0);
    expect(m.cpus[0].raisesReceived).toBe(3);
    expect(m.pendingCount(0, 2)).toBe(0);
    expect(m.isPending(0, 2)).toBe(false);
  });

  it("a latch line merges the same raises into one interrupt (unchanged by counting lines elsewhere)", () => {
    const { m, taken } = machineWithLog(1 << 2);
    const counts: number[] = [];
    threeSendersWhileMasked(m, 3, counts);
    expect(m.run().status).toBe("completed");
    expect(counts).toEqual([0, 0, 0, 1]);
    expect(taken.filter((t) => t === "0:3")).toHaveLength(1);
    expect(m.cpus[0].raisesMerged).toBe(2);
    expect(m.cpus[0].raisesReceived).toBe(3);
  });

  it("without counting lines, a machine behaves as before: every line is a latch", () => {
    const { m, taken } = machineWithLog(0);
    const counts: number[] = [];
    threeSendersWhileMasked(m, 2, counts);
    expect(m.run().status).toBe("completed");
    expect(counts[3]).toBe(1);
    expect(taken).toEqual(["0:2"]);
  });

  it("raises of a counting line that arrive while its handler runs are each taken after it", () => {
    const { m, taken } = machineWithLog(1 << 0);
    let raisedInside = false;
    m.setInterruptHandler(
      function* (cpu, line): CpuCode<void> {
        taken.push(`${cpu}:${line}@${m.now}`);
        if (!raisedInside) {
          raisedInside = true;
          m.raise(cpu, line, 0);
          m.raise(cpu, line, 0);
        }
        yield 10;
      },
      (l) => `line ${l}`,
    );
    m.spawn(
      1,
      (function* (): CpuCode<void> {
        m.raise(0, 0, 100);
        yield 10;
      })(),
    );
    expect(m.run().status).toBe("completed");
    expect(taken).toHaveLength(3);
  });

  it("clearPending drops every raise a counting line kept", () => {
    const { m, taken } = machineWithLog(1 << 1);
    m.spawn(
      0,
      (function* (): CpuCode<void> {
        m.localIrqDisable();
        m.raise(0, 1, 0);
        m.raise(0, 1, 0);
        yield 100;
        expect(m.pendingCount(0, 1)).toBe(2);
        m.clearPending(0, 1);
        expect(m.pendingCount(0, 1)).toBe(0);
        m.localIrqEnable();
        yield 100;
      })(),
    );
    expect(m.run().status).toBe("completed");
    expect(taken).toEqual([]);
  });

  it("pendingCount refuses a CPU or line that does not exist, naming the value", () => {
    const m = new Machine({ cpus: 2 });
    expect(() => m.pendingCount(2, 0)).toThrow(InvalidStepError);
    expect(() => m.pendingCount(0, 32)).toThrow(/line 32 which does not exist \(lines are 0\.\.31\)/);
  });
});

describe("CPU state a backend may read", () => {
  it("isRunning: false while halted in idle or dead, true in task code or polling in idle", () => {
    const m = new Machine({ cpus: 3, cost: { deliveryJitter: 0 }, offlineAtBoot: [2] });
    m.setInterruptHandler(
      function* (): CpuCode<void> {
        yield 10;
      },
      (l) => `line ${l}`,
    );
    const seen: boolean[] = [];
    m.spawn(
      0,
      (function* (): CpuCode<void> {
        yield 1000; // CPU 1 has no program: it halts in the default idle loop
        seen.push(m.isRunning(0), m.isRunning(1), m.isRunning(2));
        m.cpus[1].polling = true; // as the kernel's idle loop sets it with --idle poll
        seen.push(m.isRunning(1));
        m.cpus[1].polling = false;
      })(),
    );
    expect(m.run().status).toBe("completed");
    expect(seen).toEqual([true, false, false, true]);
    expect(() => m.isRunning(-1)).toThrow(/CPU -1 which does not exist/);
  });
});

describe("the explorer's state key and counting lines", () => {
  /** The state key seen by CPU 0 once `raisers` of CPUs 1..3 raised line 0 at it (the others only wait). */
  function keyAfterRaises(counting: boolean, raisers: number): string {
    const sys = createSmpSystem({ cpus: 4, seed: 1, arch: generic, cost: { deliveryJitter: 0 } });
    const m = sys.machine;
    if (counting) m.setCountingLines(1);
    let key = "";
    m.spawn(
      0,
      (function* (): CpuCode<void> {
        m.localIrqDisable();
        yield 5000;
        key = stateKey({ system: sys, runtime: { stateKey: () => "" }, ledger: new CallLedger() } as never);
        m.localIrqEnable();
        yield 10;
      })(),
    );
    for (const src of [1, 2, 3])
      m.spawn(
        src,
        (function* (): CpuCode<void> {
          yield 100;
          if (src <= raisers) m.raise(0, 0, 200);
        })(),
      );
    sys.run();
    return key;
  }

  it("two states that differ only in how many raises a counting line keeps get different keys", () => {
    expect(keyAfterRaises(true, 1)).not.toBe(keyAfterRaises(true, 3));
    // A latch line holds one raise however many arrived: the same state, the same key.
    expect(keyAfterRaises(false, 1)).toBe(keyAfterRaises(false, 3));
  });
});
