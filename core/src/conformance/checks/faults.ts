import { expectClean, kitSystem, kitWorkload, runProgram } from "../support";
import { expectThat, type ConformanceCheck } from "../types";

/** Transient hardware failures are retried until every call runs. */
export const transientFaultsCheck: ConformanceCheck = {
  name: "transient-faults-retried",
  description:
    "with the backend's transient-fault options, a broadcast workload completes with every callback run exactly once, and retries are counted",
  applies: (ctx) =>
    ctx.descriptor.capabilities.transientFaults && ctx.descriptor.capabilities.transientFaultOptions
      ? null
      : "the backend declares no transient faults (transientFaults + transientFaultOptions)",
  run(ctx) {
    const caps = ctx.descriptor.capabilities;
    const ops = 8;
    const cpus = 32;
    const { report } = kitWorkload(ctx, "a broadcast workload with transient faults", {
      cpus,
      seed: 11,
      archOptions: { ...caps.transientFaultOptions },
      workload: "broadcast",
      ops,
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
    if (caps.retryStatistic)
      expectThat(
        report.arch[caps.retryStatistic] > 0,
        () =>
          `the fault options caused no retries (${caps.retryStatistic} = 0): they did not inject transient failures`,
      );
  },
};

/** Permanent hardware failures are reported, naming the CPU. */
export const permanentFaultsCheck: ConformanceCheck = {
  name: "permanent-faults-reported",
  description:
    "a CPU that fails permanently is reported as an arch-error naming it, not left as a silent hang",
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
    const out = runProgram(ctx, `a broadcast with CPU 5 failed (${option}=5)`, sys, 0, function* () {
      yield* sys.kernel.smpCallFunction(() => undefined, null, true);
    });
    const err = out.problems.find((p) => p.kind === "arch-error");
    expectThat(
      err !== undefined,
      () =>
        `CPU 5 was failed with ${option}=5 but no arch-error was reported (problems: ${out.problems.map((p) => p.kind).join(", ") || "none"})`,
    );
    expectThat(err.cpu === 5, () => `the arch-error names CPU ${err.cpu}, expected 5: ${err.message}`);
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
