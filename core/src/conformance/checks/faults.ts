import { expectClean, kitSystem, kitWorkload, listText, RunLog, runProgram } from "../support";
import { expectThat, type ConformanceCheck } from "../types";

/** Transient hardware failures are retried until every call runs. */
export const transientFaultsCheck: ConformanceCheck = {
  name: "transient-faults-retried",
  description:
    "with the backend's transient-fault options, a broadcast workload completes with every callback run exactly once, retries are counted (retryStatistic), and the raise, acknowledgement and signal statistics still count what happened (a failed attempt is not a raise)",
  applies: (ctx) =>
    ctx.descriptor.capabilities.transientFaults && ctx.descriptor.capabilities.transientFaultOptions
      ? null
      : "the backend declares no transient faults (transientFaults + transientFaultOptions)",
  run(ctx) {
    const caps = ctx.descriptor.capabilities;
    const retryKey = caps.retryStatistic;
    expectThat(
      retryKey !== undefined,
      () =>
        "the backend declares transient faults but no retryStatistic: without it the kit cannot tell that transientFaultOptions injected any failure (declare the statistics key counting retries)",
    );
    const ops = 8;
    const cpus = 32;
    const { system, report } = kitWorkload(ctx, "a broadcast workload with transient faults", {
      cpus,
      seed: 11,
      archOptions: { ...caps.transientFaultOptions },
      workload: "broadcast",
      ops,
      trace: true,
    });
    expectThat(
      report.problems.length === 0,
      () =>
        `with transient faults the run reported problems: ${report.problems.map((p) => `${p.kind}: ${p.message.split("\n")[0]}`).join("; ")}: transient failures must be retried, not dropped`,
    );
    expectThat(
      report.counts.callbacksRun === ops * (cpus - 1),
      () =>
        `expected ${ops * (cpus - 1)} callbacks, ${report.counts.callbacksRun} ran: a transiently failed delivery was not retried`,
    );
    expectThat(
      report.arch[retryKey] > 0,
      () => `the fault options caused no retries (${retryKey} = 0): they did not inject transient failures`,
    );
    const stats = system.arch.statistics();
    const raiseKey = caps.raiseStatistic;
    if (raiseKey !== undefined) {
      const raises = system.trace.count("ipi_raise");
      expectThat(
        stats[raiseKey] === raises,
        () =>
          `with transient faults, statistic ${raiseKey} = ${stats[raiseKey]} but the trace has ${raises} ipi_raise events: a failed (NACKed, busy) attempt counted as a raise, or a retried raise not counted`,
      );
    }
    const ackKey = caps.ackStatistic;
    if (ackKey !== undefined) {
      const need = caps.ackedInterruptStatistic
        ? stats[caps.ackedInterruptStatistic]
        : system.machine.cpus.reduce((n, c) => n + c.irqsTaken, 0);
      expectThat(
        stats[ackKey] === need,
        () =>
          `with transient faults, acknowledgements (${ackKey} = ${stats[ackKey]}) differ from the interrupts that need one (${caps.ackedInterruptStatistic ?? "interrupts taken"} = ${need})`,
      );
    }
  },
};

/** Permanent hardware failures are reported, naming the CPU. */
export const permanentFaultsCheck: ConformanceCheck = {
  name: "permanent-faults-reported",
  description:
    "a CPU that fails permanently is reported as an arch-error naming it (and no other), not left as a silent hang; the other CPUs of a broadcast still run the call",
  applies: (ctx) =>
    ctx.descriptor.capabilities.permanentFaults && ctx.descriptor.capabilities.permanentFaultOption
      ? null
      : "the backend declares no permanent faults (permanentFaults + permanentFaultOption)",
  run(ctx) {
    const option = ctx.descriptor.capabilities.permanentFaultOption!;
    // The CSD watchdog is off: its re-sends to the failed CPU would keep the sender busy for as
    // long as the backend takes to give up each time (sun4u: a long BUSY poll), a real livelock
    // of the kernel with a short timeout; without it the stuck sender ends the run as a deadlock.
    const sys = kitSystem(ctx, 8, { archOptions: { [option]: "5" }, csdLockTimeoutMs: 0 });
    const log = new RunLog();
    const out = runProgram(ctx, `a broadcast with CPU 5 failed (${option}=5)`, sys, 0, function* () {
      yield* sys.kernel.smpCallFunction(log.fn("broadcast"), null, true);
    });
    const err = out.problems.find((p) => p.kind === "arch-error");
    expectThat(
      err !== undefined,
      () =>
        `CPU 5 was failed with ${option}=5 but no arch-error was reported (problems: ${out.problems.map((p) => p.kind).join(", ") || "none"})`,
    );
    expectThat(err.cpu === 5, () => `the arch-error names CPU ${err.cpu}, expected 5: ${err.message}`);
    const others = [1, 2, 3, 4, 6, 7];
    const ran = log.cpus("broadcast");
    const missed = others.filter((c) => !ran.includes(c));
    expectThat(
      missed.length === 0,
      () =>
        `a broadcast from CPU 0 with only CPU 5 failed (${option}=5) never ran on healthy CPU(s) ${listText(missed)}: IPIs to CPUs that are not in error were lost too`,
    );
    const wrong = out.problems.filter((p) => p.kind === "arch-error" && p.cpu !== 5);
    expectThat(
      wrong.length === 0,
      () =>
        `with only CPU 5 failed (${option}=5), arch-errors also name CPU(s) ${listText([...new Set(wrong.map((p) => p.cpu ?? -1))])}: ${wrong[0]?.message}`,
    );
  },
};

/** A healthy run of the same backend has no arch errors (so the permanent check is not trivially true). */
export const noSpuriousFaultsCheck: ConformanceCheck = {
  name: "no-spurious-faults",
  description: "without fault options a broadcast completes with no problems",
  run(ctx) {
    const sys = kitSystem(ctx, 8);
    expectClean(
      "healthy broadcast",
      runProgram(ctx, "a healthy broadcast", sys, 0, function* () {
        yield* sys.kernel.smpCallFunction(() => undefined, null, true);
      }),
    );
  },
};
