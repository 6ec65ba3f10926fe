import { describe, expect, it } from "@jest/globals";
import { descriptor as generic, GenericIpi } from "@smpcall/arch-generic";
import { descriptor as sparc } from "@smpcall/arch-sparc";
import { formatRunReport, runWorkload, type CpuCode } from "@smpcall/core";
import { variant } from "./kit-mutants";

/** Loses every third single IPI: the CSD watchdog reports the waits and re-sends, so the run still completes. */
class LosesEveryThirdSingle extends GenericIpi {
  private sends = 0;
  override *sendCallFunctionSingleIpi(cpu: number): CpuCode<void> {
    if (++this.sends % 3 === 0) {
      yield this.sendCostNs;
      return;
    }
    yield* super.sendCallFunctionSingleIpi(cpu);
  }
}

describe("the run report's status line", () => {
  it("says a completed run had problems, and how many, on the status line itself", () => {
    const lossy = runWorkload({
      cpus: 8,
      seed: 1,
      arch: variant("lossy", LosesEveryThirdSingle),
      workload: "mixed",
      ops: 100,
    }).report;
    expect(lossy.outcome.status).toBe("completed");
    expect(lossy.problems.length).toBeGreaterThan(0);
    expect(formatRunReport(lossy).split("\n")[2]).toBe(
      `  status: completed with ${lossy.problems.length} problem(s), listed under Problems at ${(lossy.outcome.simTimeNs / 1e6).toFixed(6)} ms simulated, ${lossy.outcome.events.toLocaleString("en-US")} events`,
    );
    const clean = runWorkload({ cpus: 8, seed: 1, arch: generic, workload: "mixed", ops: 100 }).report;
    expect(clean.problems).toEqual([]);
    expect(formatRunReport(clean).split("\n")[2]).toMatch(
      /^ {2}status: completed at [\d.]+ ms simulated, [\d,]+ events$/,
    );
  });
});

describe("the per-CPU summary of a machine with more CPUs than rows", () => {
  it("gives min, median and max of every CPU's counts, the median of an even count being the mean of the two middle values", () => {
    const report = runWorkload({ cpus: 32, seed: 3, arch: generic, workload: "mixed", ops: 200 }).report;
    const text = formatRunReport(report).split("\n");
    for (const [label, key] of [
      ["callbacks", "callbacks"],
      ["irqs", "irqs"],
      ["spin ns", "spinNs"],
    ] as const) {
      const vals = report.perCpu.map((x) => x[key]).sort((a, b) => a - b);
      const median = (vals[15] + vals[16]) / 2;
      const row = text.find((l) => l.startsWith(`  ${label.padEnd(10)} min `));
      expect(row).toBe(
        `  ${label.padEnd(10)} min ${vals[0].toLocaleString("en-US")}  median ${median.toLocaleString("en-US")}  max ${vals[31].toLocaleString("en-US")}`,
      );
    }
  });
});

describe("the per-CPU busy time", () => {
  it("counts only time the clock reached when the run stops mid-step (step limit)", () => {
    // sun4u with a CPU whose dispatch BUSY bit never clears: senders spend ~29 ms per stuck
    // dispatch, so the step limit stops the run with a CPU inside such a step. Its busy time was
    // counted when the step started (up to 29 ms past the end of the run).
    const { report } = runWorkload({
      cpus: 4,
      seed: 1,
      arch: sparc,
      archOptions: { platform: "sun4u-cheetah", errorCpus: "1" },
      workload: "mixed",
      ops: 20,
      maxEvents: 20_000,
      csdLockTimeoutMs: 1,
    });
    expect(report.outcome.status).toBe("step-limit");
    for (const row of report.perCpu) expect(row.busyNs).toBeLessThanOrEqual(report.outcome.simTimeNs);
  });
});

describe("the per-CPU spin time", () => {
  it("counts the waits still spinning when a run ends in deadlock", () => {
    // sun4v CPUs 3 and 5 in error state: calls to them are dropped and their callers spin until
    // the end. A wait's time was added only when it ended, so the table left out each CPU's last
    // wait (up to 20 s here) while the deadlock problem named it.
    const { report } = runWorkload({
      cpus: 16,
      seed: 1,
      arch: sparc,
      archOptions: { errorCpus: "3,5" },
      workload: "mixed",
      ops: 60,
    });
    expect(report.outcome.status).toBe("deadlock");
    const deadlock = report.problems.find((p) => p.kind === "deadlock")!;
    const spinning = [...deadlock.message.matchAll(/^ {2}CPU (\d+) .* spins on .* for (\d+) ns$/gm)];
    expect(spinning.length).toBeGreaterThan(0);
    for (const [, cpu, ns] of spinning) {
      const row = report.perCpu[Number(cpu)];
      expect(row.spinNs).toBeGreaterThanOrEqual(Number(ns));
      expect(row.spinNs).toBeLessThanOrEqual(report.outcome.simTimeNs);
    }
  });
});
