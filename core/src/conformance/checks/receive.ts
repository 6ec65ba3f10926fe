import type { CpuCode } from "../../machine/step";
import type { SmpSystem } from "../../system";
import { expectClean, kitSystem, kitWorkload } from "../support";
import { expectThat, type ConformanceCheck, type ConformanceContext } from "../types";

/** Acknowledgements and the interrupts that need one, as the backend declares them. */
function ackCounts(ctx: ConformanceContext, sys: SmpSystem): { acks: number; need: number } {
  const caps = ctx.descriptor.capabilities;
  const s = sys.arch.statistics();
  return {
    acks: s[caps.ackStatistic!],
    need: caps.ackedInterruptStatistic
      ? s[caps.ackedInterruptStatistic]
      : sys.machine.cpus.reduce((n, c) => n + c.irqsTaken, 0),
  };
}

/**
 * The acknowledgement statistic equals the interrupts that need one (the declared
 * `ackedInterruptStatistic`, else every interrupt taken), and the latter is at most the
 * interrupts taken.
 */
export function expectAcked(ctx: ConformanceContext, what: string, sys: SmpSystem): void {
  const caps = ctx.descriptor.capabilities;
  const { acks, need } = ackCounts(ctx, sys);
  const taken = sys.machine.cpus.reduce((n, c) => n + c.irqsTaken, 0);
  expectThat(
    need <= taken,
    () =>
      `${what}: ${caps.ackedInterruptStatistic} = ${need} interrupts that need an acknowledgement, but only ${taken} interrupts were taken: ackedInterruptStatistic must count interrupts taken (those that need one), not acknowledgements or sends`,
  );
  expectThat(
    acks === need,
    () =>
      `${what}: acknowledgements (${caps.ackStatistic} = ${acks}) must equal the interrupts that need one (${caps.ackedInterruptStatistic ?? "interrupts taken"} = ${need}): ${acks < need ? "an interrupt was not acknowledged" : "an acknowledgement without an interrupt (counted per send, not per interrupt taken?)"}`,
  );
}

/** The receive path acknowledges the hardware once per taken interrupt and calls the core handler. */
export const acknowledgeCheck: ConformanceCheck = {
  name: "receive-acknowledges-once",
  description:
    "over a mixed workload, and over sends that merge into one interrupt at a CPU with interrupts off, the backend's acknowledgement count equals the interrupts that need one (a declared ackedInterruptStatistic must be another key than ackStatistic and count at most the interrupts taken), and the core handler ran",
  applies: (ctx) =>
    ctx.descriptor.capabilities.ackStatistic ? null : "the backend declares no ackStatistic capability",
  run(ctx) {
    const caps = ctx.descriptor.capabilities;
    expectThat(
      caps.ackedInterruptStatistic !== caps.ackStatistic,
      () =>
        `capabilities.ackedInterruptStatistic and ackStatistic both name "${caps.ackStatistic}": the check would compare the acknowledgements with themselves (name the counter of interrupts that need one, or leave ackedInterruptStatistic out: every interrupt taken)`,
    );
    const { system, report } = kitWorkload(ctx, "a mixed workload on 16 CPUs", {
      cpus: 16,
      seed: 3,
      workload: "mixed",
      ops: 300,
    });
    expectThat(
      report.problems.length === 0,
      () =>
        `the mixed workload reported problems: ${report.problems.map((p) => p.message.split("\n")[0]).join("; ")}`,
    );
    expectAcked(ctx, "a mixed workload on 16 CPUs", system);
    const handlerCalls = system.kernel.stats.handlerCallsOn.reduce((a, b) => a + b, 0);
    expectThat(handlerCalls > 0, () => "the receive path never called the core handler");
    // Sends that meet a CPU with interrupts off merge (a mixed workload rarely merges any): an
    // acknowledgement counted per send instead of per interrupt taken shows here.
    const sys = kitSystem(ctx, 8);
    const k = sys.kernel;
    sys.spawn(
      3,
      (function* (): CpuCode<void> {
        sys.machine.localIrqDisable();
        yield 100_000;
        sys.machine.localIrqEnable();
        yield 10;
      })(),
    );
    for (const s of [0, 1, 2, 4])
      sys.spawn(
        s,
        (function* (): CpuCode<void> {
          yield 500 * (s + 1);
          yield* k.smpCallFunctionSingleAsync(
            3,
            k.initCsd(() => undefined, null),
          );
          yield* sys.arch.sendCallFunctionSingleIpi(3);
          yield* k.smpSendReschedule(3);
        })(),
      );
    const what = "calls, raw IPIs and reschedules from 4 CPUs to CPU 3 while it has interrupts off";
    expectClean(what, ctx.guard.run(sys, what));
    expectAcked(ctx, what, sys);
  },
};
