import { describe, expect, it } from "@jest/globals";
import { descriptor as generic, GenericIpi } from "@smpcall/arch-generic";
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
