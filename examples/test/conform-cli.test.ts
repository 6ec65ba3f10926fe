import { describe, expect, it } from "@jest/globals";
import * as path from "node:path";
import { CONFORMANCE_CHECKS } from "@smpcall/core/conformance";
import { main } from "../src/cli/main";
import { memoryIo } from "../src/cli/io";

const LIVELOCK = path.resolve(__dirname, "fixtures/livelock-riscv.js");
const SPIN = path.resolve(__dirname, "fixtures/spin-riscv.js");

describe("smpcall conform on a mode limited to a few CPUs", () => {
  it("x86 apic=flat: checks needing more than 8 CPUs are not run (machine size), not failed; the summary and --json say which", async () => {
    const argv = [
      "conform",
      "--arch",
      "x86",
      "--arch-opt",
      "apic=flat",
      "--cpus",
      "2,3,8",
      "--schedules",
      "3",
    ];
    const io = memoryIo();
    expect(await main([...argv, "--json"], io)).toBe(0);
    const out = JSON.parse(io.stdout) as {
      passed: boolean;
      notRun: string[];
      results: { name: string; status: string; message: string; skipReason?: string }[];
    };
    expect(out.passed).toBe(true);
    expect(out.notRun).toEqual([
      "mask-word-boundaries",
      "targets-after-hotplug-holes",
      "causality-and-latency",
      "receive-acknowledges-once",
      "statistics-consistent",
    ]);
    for (const r of out.results.filter((x) => x.skipReason === "machine-size")) {
      expect(r.status).toBe("skipped");
      expect(r.message).toMatch(
        /^needs a (12|16|24|33)-CPU machine, which the backend refuses with these options: apic=flat \(xAPIC flat logical mode\) addresses at most 8 CPUs/,
      );
    }
    expect(out.results.filter((x) => x.status === "fail")).toEqual([]);
    const text = memoryIo();
    expect(await main(argv, text)).toBe(0);
    expect(text.stdout).toMatch(
      /\n\d+ passed, 0 failed, 3 skipped \(capability\), 5 not run \(machine size the backend refuses with these options: they check nothing here;/,
    );
  }, 120_000);
});

describe("smpcall conform never hangs", () => {
  it("--json prints every result when checks ran out of their budget, and exits 1 within 60 s", async () => {
    const io = memoryIo();
    const t0 = Date.now();
    expect(await main(["conform", "--arch", LIVELOCK, "--cpus", "3", "--schedules", "2", "--json"], io)).toBe(
      1,
    );
    expect(Date.now() - t0).toBeLessThan(60_000);
    const out = JSON.parse(io.stdout) as {
      passed: boolean;
      notRun: string[];
      results: { name: string; status: string; message: string }[];
    };
    expect(out.passed).toBe(false);
    expect(out.notRun).toEqual([]); // failed checks stay failed: none is taken for a refused size
    expect(out.results.map((r) => r.name)).toEqual(CONFORMANCE_CHECKS.map((c) => c.name));
    const single = out.results.find((r) => r.name === "single-ipi-exact-target")!;
    expect(single.status).toBe("fail");
    expect(single.message).toMatch(
      /^single-ipi-exact-target: single call 0 -> 7 on 8 CPUs ran out of its event budget of 2,000,000 events at t=[\d,]+ ns; CPU 7 still in handleInterrupt \(line 0, IPI \(supervisor software interrupt\)\) after [\d,]+ events/,
    );
  }, 90_000);

  it("fails a check whose backend code never returns after --check-timeout, and goes on with the next checks", async () => {
    const io = memoryIo();
    const t0 = Date.now();
    const argv = ["conform", "--arch", SPIN, "--cpus", "2,3", "--check-timeout", "3"];
    for (const check of ["descriptor-valid", "single-ipi-exact-target", "mask-ipi-exact"])
      argv.push("--check", check);
    expect(await main([...argv, "--json"], io)).toBe(1);
    expect(Date.now() - t0).toBeLessThan(30_000);
    const out = JSON.parse(io.stdout) as {
      passed: boolean;
      results: { name: string; status: string; message: string }[];
    };
    expect(out.results.map((r) => [r.name, r.status])).toEqual([
      ["descriptor-valid", "pass"],
      ["single-ipi-exact-target", "fail"],
      ["mask-ipi-exact", "fail"],
    ]);
    for (const r of out.results.slice(1))
      expect(r.message).toMatch(
        /^no result after 3 s of wall time: the check's code did not return \(synchronous code that never yields/,
      );
    expect(await main(["conform", "--arch", SPIN, "--check-timeout", "0"], memoryIo())).toBe(2);
  }, 90_000);

  it("shows each check as it starts on a terminal, then its row", async () => {
    const io = { ...memoryIo(), isTTY: true };
    const lines: string[] = [];
    io.out = (t: string) => void lines.push(t);
    await main(
      [
        "conform",
        "--arch",
        LIVELOCK,
        "--check",
        "single-ipi-exact-target",
        "--check",
        "offline-delivery-safe",
      ],
      io,
    );
    const text = lines.join("");
    expect(lines).toContain("RUNNING single-ipi-exact-target ...");
    expect(text).toContain("RUNNING single-ipi-exact-target ...\r\u001b[2KFAIL    single-ipi-exact-target");
    expect(text.indexOf("RUNNING offline-delivery-safe")).toBeGreaterThan(
      text.indexOf("FAIL    single-ipi-exact-target"),
    );
  }, 60_000);

  it("without a terminal prints rows only, as each check ends", async () => {
    const io = memoryIo();
    await main(["conform", "--arch", LIVELOCK, "--check", "descriptor-valid"], io);
    expect(io.stdout).not.toMatch(/RUNNING/);
    expect(io.stdout).toMatch(/PASS +descriptor-valid/);
  });
});
