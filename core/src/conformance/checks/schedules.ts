import { CpuMask } from "../../machine/cpumask";
import { Prng } from "../../machine/prng";
import { RandomScheduleChooser } from "../random-chooser";
import { expectClean, expectRanOn, kitSystem, RunLog } from "../support";
import type { ConformanceCheck } from "../types";

/** Every call runs exactly once under many seeded random schedules. */
export const randomSchedulesCheck: ConformanceCheck = {
  name: "random-schedules-exactly-once",
  description:
    "a mix of single, async, many and broadcast calls on 6 CPUs under seeded random event orders: every call runs exactly once on exactly its targets",
  run(ctx) {
    const n = 6;
    for (let seed = 1; seed <= ctx.schedules; seed++) {
      const sys = kitSystem(ctx, n, {
        chooser: new RandomScheduleChooser(seed),
        seed,
        cost: { deliveryJitter: 0 },
      });
      const log = new RunLog();
      const expected = new Map<string, number[]>();
      const ops = new Prng(seed).fork("ops");
      for (let cpu = 0; cpu < n; cpu++) {
        const plan = Array.from({ length: 3 }, () => [ops.int(4), ops.int(n), ops.int(1 << n)] as const);
        sys.spawn(
          cpu,
          (function* () {
            for (let i = 0; i < plan.length; i++) {
              const [kind, target, bits] = plan[i];
              const id = `${seed}:${cpu}.${i}`;
              if (kind === 0) {
                expected.set(id, [target]);
                yield* sys.kernel.smpCallFunctionSingle(target, log.fn(id), null, true);
              } else if (kind === 1) {
                expected.set(id, target === cpu ? [cpu] : [target]);
                yield* sys.kernel.smpCallFunctionSingleAsync(target, sys.kernel.initCsd(log.fn(id), null));
              } else if (kind === 2) {
                const mask = new CpuMask(n);
                for (let c = 0; c < n; c++) if (bits & (1 << c)) mask.set(c);
                expected.set(
                  id,
                  mask.toArray().filter((c) => c !== cpu),
                );
                yield* sys.kernel.smpCallFunctionMany(mask, log.fn(id), null, (bits & 1) === 0);
              } else {
                expected.set(
                  id,
                  Array.from({ length: n }, (_, c) => c).filter((c) => c !== cpu),
                );
                yield* sys.kernel.smpCallFunction(log.fn(id), null, true);
              }
            }
          })(),
        );
      }
      const out = ctx.guard.run(sys, `random schedule ${seed}`);
      expectClean(`random schedule ${seed}`, out);
      for (const [id, cpus] of expected) expectRanOn(`random schedule ${seed}, call ${id}`, log, id, cpus);
    }
  },
};
