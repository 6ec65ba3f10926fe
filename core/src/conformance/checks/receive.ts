import { kitWorkload } from "../support";
import { expectThat, type ConformanceCheck } from "../types";

/** The receive path acknowledges the hardware once per taken interrupt and calls the core handler. */
export const acknowledgeCheck: ConformanceCheck = {
  name: "receive-acknowledges-once",
  description:
    "over a mixed workload, the backend's acknowledgement count equals the interrupts that need one, and the core handler ran",
  applies: (ctx) =>
    ctx.descriptor.capabilities.ackStatistic ? null : "the backend declares no ackStatistic capability",
  run(ctx) {
    const caps = ctx.descriptor.capabilities;
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
    const acks = report.arch[caps.ackStatistic!];
    const need = caps.ackedInterruptStatistic
      ? report.arch[caps.ackedInterruptStatistic]
      : report.counts.interruptsTaken;
    expectThat(
      acks === need,
      () =>
        `acknowledgements (${caps.ackStatistic} = ${acks}) must equal the interrupts that need one (${caps.ackedInterruptStatistic ?? "interrupts taken"} = ${need}): ${acks < need ? "an interrupt was not acknowledged" : "an acknowledgement without an interrupt"}`,
    );
    const handlerCalls = system.kernel.stats.handlerCallsOn.reduce((a, b) => a + b, 0);
    expectThat(handlerCalls > 0, () => "the receive path never called the core handler");
  },
};
