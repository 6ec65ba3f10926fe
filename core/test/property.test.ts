import { describe, expect, it } from "@jest/globals";
import * as fc from "fast-check";
import { CpuMask, type CpuCode } from "@smpcall/core";
import { testSystem } from "./helpers";

/** One random cross-call a CPU issues. */
type Op =
  | { kind: "single"; target: number; wait: boolean }
  | { kind: "async"; target: number }
  | { kind: "many"; targets: number[]; wait: boolean }
  | { kind: "each"; targets: number[]; wait: boolean }
  | { kind: "bcast"; wait: boolean }
  | { kind: "irqoff"; ns: number };

const NR = 5;
const cpu = fc.integer({ min: 0, max: NR - 1 });
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant("single" as const), target: cpu, wait: fc.boolean() }),
  fc.record({ kind: fc.constant("async" as const), target: cpu }),
  fc.record({
    kind: fc.constant("many" as const),
    targets: fc.array(cpu, { maxLength: NR }),
    wait: fc.boolean(),
  }),
  fc.record({
    kind: fc.constant("each" as const),
    targets: fc.array(cpu, { maxLength: NR }),
    wait: fc.boolean(),
  }),
  fc.record({ kind: fc.constant("bcast" as const), wait: fc.boolean() }),
  fc.record({ kind: fc.constant("irqoff" as const), ns: fc.integer({ min: 1, max: 20_000 }) }),
);

describe("property: no call lost or run twice", () => {
  it("every issued call runs exactly once on exactly its expected CPUs, whatever the operation mix and seed", () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(op, { maxLength: 6 }), { minLength: NR, maxLength: NR }),
        fc.integer({ min: 0, max: 1e9 }),
        (programs, seed) => {
          const sys = testSystem(NR, { seed, trace: false, cost: { deliveryJitter: 0.3 } });
          const k = sys.kernel;
          const expected = new Map<string, number[]>();
          const ran = new Map<string, number[]>();
          const note = (id: string, c: number) => (ran.get(id) ?? ran.set(id, []).get(id)!).push(c);
          programs.forEach((ops, self) => {
            sys.spawn(
              self,
              (function* (): CpuCode<void> {
                for (let i = 0; i < ops.length; i++) {
                  const o = ops[i];
                  const id = `${self}.${i}`;
                  const fn = (_: unknown, c: number): void => {
                    note(id, c);
                  };
                  yield 50 + ((seed + i) % 500);
                  switch (o.kind) {
                    case "single":
                      expected.set(id, [o.target]);
                      yield* k.smpCallFunctionSingle(o.target, fn, null, o.wait);
                      break;
                    case "async": {
                      expected.set(id, [o.target]);
                      const r = yield* k.smpCallFunctionSingleAsync(o.target, k.initCsd(fn, null));
                      if (r !== 0) throw new Error(`async call failed: ${r}`);
                      break;
                    }
                    case "many":
                      expected.set(
                        id,
                        [...new Set(o.targets)].filter((t) => t !== self),
                      );
                      yield* k.smpCallFunctionMany(CpuMask.of(NR, o.targets), fn, null, o.wait);
                      break;
                    case "each":
                      expected.set(id, [...new Set(o.targets)]);
                      yield* k.onEachCpuMask(CpuMask.of(NR, o.targets), fn, null, o.wait);
                      break;
                    case "bcast":
                      expected.set(
                        id,
                        [...Array(NR).keys()].filter((t) => t !== self),
                      );
                      yield* k.smpCallFunction(fn, null, o.wait);
                      break;
                    case "irqoff":
                      sys.machine.localIrqDisable();
                      yield o.ns;
                      sys.machine.localIrqEnable();
                      break;
                  }
                }
              })(),
            );
          });
          const out = sys.run({ maxEvents: 1_000_000 });
          expect(out.status).toBe("completed");
          expect(out.problems).toEqual([]);
          for (const [id, cpus] of expected)
            expect([id, (ran.get(id) ?? []).sort()]).toEqual([id, [...cpus].sort()]);
          for (const id of ran.keys()) expect(expected.has(id)).toBe(true);
        },
      ),
      { numRuns: 150 },
    );
  });
});
