import { CpuMask } from "../../machine/cpumask";
import { PredicateWait, type CpuCode } from "../../machine/step";
import { expectClean, expectRanOn, kitProbe, kitSystem, kitTimeScale, RunLog } from "../support";
import { expectThat, type ConformanceCheck } from "../types";

/** A raise that lands while the target is inside its handler for that line is taken later, not lost. */
export const raiseDuringHandlerCheck: ConformanceCheck = {
  name: "raise-during-own-handler",
  description:
    "a call sent to a CPU while it is inside its interrupt handler for the same kind of IPI (a long callback is running there) is not lost: it runs once, after the handler",
  run(ctx) {
    // A slow backend gets a longer callback and task (the same steps, longer): its raise must
    // still land while the first callback runs.
    const stepNs = 1_000 * kitTimeScale(ctx);
    for (const path of ["single", "mask"] as const) {
      const n = 8;
      const sys = kitSystem(ctx, n);
      const probe = kitProbe(sys);
      const log = new RunLog();
      let inside = false;
      let sentInside = false;
      const started = new PredicateWait(() => inside, "CPU 3 running the first callback");
      // The first call's callback keeps CPU 3 inside its handler for 40 us.
      const longCallback = function* (): CpuCode<void> {
        log.fn("first")(null, 3);
        inside = true;
        sys.machine.wake(started);
        yield 40 * stepNs;
      };
      const send = (
        id: string,
        fn: (info: unknown, cpu: number) => unknown,
        from: number,
      ): CpuCode<unknown> =>
        path === "single"
          ? sys.kernel.smpCallFunctionSingle(3, fn as never, null, true)
          : sys.kernel.smpCallFunctionMany(
              CpuMask.of(n, from === 0 ? [3, 5] : [3, 6]),
              fn as never,
              id,
              true,
            ); // two targets: the mask path
      // CPU 3 is busy in a task (interrupts on) long after the handler: a lost raise is not
      // rescued by the idle loop's queue flush before the kit looks.
      let taskEnded = false;
      let ranLate = false;
      sys.spawn(
        3,
        (function* () {
          for (let i = 0; i < 1000; i++) yield stepNs; // busy in 1 us steps (scaled): interrupts are taken between steps
          taskEnded = true;
        })(),
      );
      sys.spawn(
        0,
        (function* () {
          yield* send("first", (_i: unknown, cpu: number) => (cpu === 3 ? longCallback() : undefined), 0);
        })(),
      );
      sys.spawn(
        1,
        (function* () {
          yield started;
          sentInside = probe.active[3].some((a) => a.method === "handleInterrupt");
          const record = log.fn("second");
          yield* send(
            "second",
            (info: unknown, cpu: number) => {
              if (cpu === 3 && taskEnded) ranLate = true;
              record(info, cpu);
            },
            1,
          );
        })(),
      );
      const what = `${path} path: a call to CPU 3 while it runs a ${(40 * stepNs) / 1000} us callback in its handler`;
      const out = ctx.guard.run(sys, what);
      expectThat(
        sentInside,
        () =>
          `${what}: the kit could not catch CPU 3 inside its handler (it ran the first callback outside handleInterrupt)`,
      );
      expectThat(
        log.cpus("second").includes(3) && !ranLate,
        () =>
          `${what}: the second call ${ranLate ? "ran on CPU 3 only when it went idle (the idle loop's queue flush found it)" : "never ran on CPU 3"}: the raise that arrived while CPU 3 was inside its handler for that line was lost (acknowledge before handling, never after)`,
      );
      expectRanOn(what, log, "second", path === "single" ? [3] : [3, 6]);
      expectClean(what, out);
    }
  },
};
