import { describe, expect, it } from "@jest/globals";
import { main } from "../../examples/src/cli/main";
import { memoryIo } from "../../examples/src/cli/io";

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const io = memoryIo();
  const code = await main(args, io);
  return { code, stdout: io.stdout, stderr: io.stderr };
}

describe("arch-x86 through the smpcall CLI", () => {
  it("run --arch x86 --cpus 64 --workload broadcast completes and reports the APIC counters", async () => {
    const r = await cli(["run", "--arch", "x86", "--cpus", "64", "--workload", "broadcast", "--json"]);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.problems).toEqual([]);
    expect(report.arch.eois).toBe(
      report.arch.interruptsCallFunction +
        report.arch.interruptsCallFunctionSingle +
        report.arch.interruptsReschedule,
    );
    expect(report.arch.icrWrites).toBeGreaterThan(0);
    expect(report.arch.busyWaitNs).toBe(0); // auto = x2apic-cluster above 8 CPUs
  });

  it("--arch-opt apic=physflat accrues busy-wait; bad option values exit 2 naming the choices", async () => {
    const phys = JSON.parse(
      (
        await cli([
          "run",
          "--arch",
          "x86",
          "--cpus",
          "16",
          "--workload",
          "broadcast",
          "--arch-opt",
          "apic=physflat",
          "--arch-opt",
          "shorthand=off",
          "--json",
        ])
      ).stdout,
    );
    expect(phys.arch.busyWaitNs).toBeGreaterThan(0);
    const bad = await cli(["run", "--arch", "x86", "--cpus", "16", "--arch-opt", "apic=x2"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/apic.*auto \| flat \| physflat \| x2apic-cluster \| x2apic-phys/);
    const flat = await cli(["run", "--arch", "x86", "--cpus", "16", "--arch-opt", "apic=flat"]);
    expect(flat.code).toBe(2);
    expect(flat.stderr).toMatch(/apic=flat .*at most 8 CPUs, this machine has 16/);
    const sh = await cli(["run", "--arch", "x86", "--cpus", "16", "--arch-opt", "shorthand=on"]);
    expect(sh.code).toBe(2);
    expect(sh.stderr).toMatch(/shorthand.*auto \| off/);
  });
});
