import { describe, expect, it } from "@jest/globals";
import { main } from "../src/cli/main";
import { memoryIo } from "../src/cli/io";
import type { RunReport } from "@smpcall/core";

async function cli(args: string[]) {
  const io = memoryIo();
  const code = await main(args, io);
  return { code, stdout: io.stdout, stderr: io.stderr };
}

const num = (n: number) => n.toLocaleString("en-US");

describe("the run report: the core's IPI requests beside the backend's hardware signals", () => {
  it.each([
    ["generic", [], "raises"],
    ["x86", ["--arch-opt", "apic=x2apic-cluster"], "vectorsSent"],
    ["powerpc", ["--arch-opt", "platform=powernv-power8"], "ipisCaused"],
    ["sparc", ["--arch-opt", "platform=sun4v"], "mondosDelivered"],
  ])("%s: both numbers, the signals read from the backend's own statistic", async (arch, opts, key) => {
    const base = ["run", "--arch", arch, ...opts, "--cpus", "16", "--workload", "mixed", "--ops", "300"];
    const json = await cli([...base, "--json"]);
    expect(json.code).toBe(0);
    const r = JSON.parse(json.stdout) as RunReport;
    expect(r.counts.hardwareSignalStatistic).toBe(key);
    expect(r.counts.hardwareSignals).toBe(r.arch[key]);
    expect(r.counts.ipisSent).toBeGreaterThan(0);
    expect(r.counts.hardwareSignals).toBeGreaterThan(0);
    const text = await cli(base);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(
      new RegExp(
        `IPIs requested +${num(r.counts.ipisSent + r.counts.rescheduleIpis)} \\(${num(r.counts.ipisSent)} call-function targets`,
      ),
    );
    expect(text.stdout).toMatch(
      new RegExp(`hardware signals +${num(r.counts.hardwareSignals!)} \\(backend statistic ${key}\\)`),
    );
  });

  it("generic raises once per request, so its signals equal the requests", async () => {
    const r = JSON.parse(
      (await cli(["run", "--cpus", "8", "--workload", "single-storm", "--ops", "200", "--json"])).stdout,
    ) as RunReport;
    expect(r.counts.hardwareSignals).toBe(r.counts.ipisSent + r.counts.rescheduleIpis);
  });

  it("sparc sun4v drops the mondos of a CPU in error: fewer hardware signals than requests", async () => {
    const out = await cli([
      "run",
      "--arch",
      "sparc",
      "--arch-opt",
      "errorCpus=3",
      "--cpus",
      "8",
      "--workload",
      "single-storm",
      "--ops",
      "200",
      "--json",
    ]);
    expect(out.code).toBe(1); // the CPU in error is reported
    const r = JSON.parse(out.stdout) as RunReport;
    expect(r.arch.cpuErrors).toBeGreaterThan(0);
    // The watchdog's re-sends (a stuck csd to the CPU in error) go to the hardware too.
    expect(r.counts.hardwareSignals).toBe(
      r.counts.ipisSent + r.counts.rescheduleIpis + r.counts.watchdogResends - r.arch.cpuErrors,
    );
    // Every signal is taken as a mondo trap.
    expect(r.counts.hardwareSignals).toBe(r.arch.mondoTraps);
  });
});
