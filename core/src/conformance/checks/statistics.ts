import { kitWorkload } from "../support";
import { expectThat, type ConformanceCheck } from "../types";

/** Statistics are consistent with the trace and never decrease. */
export const statisticsCheck: ConformanceCheck = {
  name: "statistics-consistent",
  description:
    "statistics are finite, never decrease, keep their keys, and match the trace (ipi_raise events = the declared raise statistic; ipi_entry events = interrupts taken)",
  run(ctx) {
    const caps = ctx.descriptor.capabilities;
    const { system, report } = kitWorkload(ctx, "a mixed workload on 12 CPUs", {
      cpus: 12,
      seed: 5,
      workload: "mixed",
      ops: 200,
      trace: true,
    });
    const first = system.arch.statistics();
    system.spawn(
      0,
      system.kernel.smpCallFunction(() => undefined, null, true),
    );
    ctx.guard.run(system, "a broadcast after the workload");
    const second = system.arch.statistics();
    expectThat(
      Object.keys(first).join() === Object.keys(second).join(),
      () =>
        `statistics keys changed during the run: ${Object.keys(first).join()} then ${Object.keys(second).join()}`,
    );
    for (const [k, v] of Object.entries(second)) {
      expectThat(Number.isFinite(v) && v >= 0, () => `statistic ${k} = ${v} is not a finite number >= 0`);
      expectThat(v >= first[k], () => `statistic ${k} decreased from ${first[k]} to ${v}`);
    }
    const trace = system.trace;
    const irqs = system.machine.cpus.reduce((s, c) => s + c.irqsTaken, 0);
    expectThat(
      trace.count("ipi_entry") === irqs,
      () => `ipi_entry events (${trace.count("ipi_entry")}) != interrupts taken (${irqs})`,
    );
    const key = caps.raiseStatistic;
    if (key !== undefined) {
      const raises = trace.count("ipi_raise");
      expectThat(
        second[key] === raises,
        () =>
          `statistic ${key} = ${second[key]} but the trace has ${raises} ipi_raise events: the backend's statistics are wrong`,
      );
    }
    expectThat(
      report.problems.length === 0,
      () => `the run reported problems: ${report.problems.map((p) => p.message.split("\n")[0]).join("; ")}`,
    );
  },
};
