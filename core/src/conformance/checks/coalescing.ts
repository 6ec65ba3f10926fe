import { expectClean, expectRanOn, kitSystem, RunLog } from "../support";
import type { ConformanceCheck } from "../types";

/** Repeated sends before the target takes the interrupt never lose a call. */
export const repeatedSendsCheck: ConformanceCheck = {
  name: "repeated-sends-never-lose",
  description:
    "several calls and extra raw IPIs to a CPU with interrupts off: once it enables them, every call runs exactly once",
  run(ctx) {
    const sys = kitSystem(ctx, 8);
    const log = new RunLog();
    sys.spawn(
      3,
      (function* () {
        sys.machine.localIrqDisable();
        yield 100_000;
        sys.machine.localIrqEnable();
        yield 10;
      })(),
    );
    for (const s of [0, 1, 2, 4]) {
      sys.spawn(
        s,
        (function* () {
          yield 500 * (s + 1);
          yield* sys.kernel.smpCallFunctionSingle(3, log.fn(`c${s}`), null, false);
          yield* sys.arch.sendCallFunctionSingleIpi(3);
          yield* sys.kernel.smpCallFunctionSingleAsync(3, sys.kernel.initCsd(log.fn(`a${s}`), null));
        })(),
      );
    }
    expectClean("repeated sends", ctx.guard.run(sys, "repeated sends to a CPU with interrupts off"));
    for (const s of [0, 1, 2, 4]) {
      expectRanOn(`call from CPU ${s}`, log, `c${s}`, [3]);
      expectRanOn(`async call from CPU ${s}`, log, `a${s}`, [3]);
    }
  },
};
