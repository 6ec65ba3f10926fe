import { describe, expect, it } from "@jest/globals";
import { KERNEL_BARRIERS } from "@smpcall/core";
import { main } from "../src/cli/main";
import { memoryIo } from "../src/cli/io";

describe("--memory and --drop-barrier on explore, replay and run", () => {
  it("explore --barriers lists the kernel's barriers, and x2APIC's send fence with that backend", async () => {
    const io = memoryIo();
    expect(await main(["explore", "--barriers", "--json"], io)).toBe(0);
    const { barriers } = JSON.parse(io.stdout) as { barriers: { name: string; where: string }[] };
    expect(barriers.map((b) => b.name)).toEqual(KERNEL_BARRIERS.map((b) => b.name));
    const x = memoryIo();
    expect(await main(["explore", "--barriers", "--arch", "x86", "--arch-opt", "apic=x2apic-phys"], x)).toBe(
      0,
    );
    expect(x.stdout).toMatch(/^ {2}x2apic:weak_wrmsr_fence +the queue writes before the IPI lands$/m);
    expect(x.stdout).toMatch(/^ {2}do_idle:smp_mb__after_atomic /m);
  });

  it("finds the lost call once do_idle's barrier is dropped, and replay reproduces it from the schedule", async () => {
    const io = memoryIo();
    const args = ["explore", "--scenario", "mem-idle-wakeup", "--idle", "poll", "--memory", "lkmm"];
    expect(await main([...args, "--drop-barrier", "do_idle:smp_mb__after_atomic", "--json"], io)).toBe(1);
    const r = JSON.parse(io.stdout) as { violation: { kind: string; schedule: string } };
    expect(r.violation.kind).toBe("lost-call");
    expect(r.violation.schedule).toContain(",memory=lkmm,drop-barrier=do_idle:smp_mb__after_atomic,");
    const again = memoryIo();
    expect(await main(["replay", "--schedule", r.violation.schedule], again)).toBe(1);
    expect(again.stdout).toContain("VIOLATION (lost-call)");
    const other = memoryIo();
    expect(await main(["replay", "--schedule", r.violation.schedule, "--memory", "tso"], other)).toBe(2);
    expect(other.stderr).toContain('bad --memory "tso": this schedule was explored under memory model lkmm');
    const clean = memoryIo();
    expect(await main([...args, "--preemption-bound", "none"], clean)).toBe(0);
    expect(clean.stdout).toContain("search complete");
  });

  it("refuses an unknown barrier or model with one line and exit 2", async () => {
    const a = memoryIo();
    expect(await main(["explore", "--scenario", "mem-idle-wakeup", "--drop-barrier", "smp_mb"], a)).toBe(2);
    expect(a.stderr).toMatch(
      /^smpcall: bad --drop-barrier "smp_mb": the barriers of this machine \(backend generic\) are csd_lock_wait:acquire, .*do_idle:smp_mb__after_atomic\n$/,
    );
    const b = memoryIo();
    expect(await main(["run", "--memory", "arm"], b)).toBe(2);
    expect(b.stderr.trim()).toBe('smpcall: bad --memory "arm": choose one of sc, tso, lkmm');
    const c = memoryIo();
    expect(await main(["explore"], c)).toBe(2);
    expect(c.stderr).toContain("explore needs --scenario");
    const d = memoryIo();
    expect(
      await main(["explore", "--scenario", "mem-sync-result", "--policy", "naive", "--memory", "lkmm"], d),
    ).toBe(2);
    expect(d.stderr).toContain("runs the 2008 design, which does not go through the memory layer");
  });

  it("an sc run's report has no memory field; dropped barriers are named in the header", async () => {
    const sc = memoryIo();
    expect(await main(["run", "--cpus", "4", "--ops", "5", "--json"], sc)).toBe(0);
    expect(JSON.parse(sc.stdout)).not.toHaveProperty("config.memory");
    const io = memoryIo();
    const args = [
      "run",
      "--cpus",
      "4",
      "--ops",
      "5",
      "--memory",
      "lkmm",
      "--drop-barrier",
      "csd_unlock:release",
    ];
    expect(await main(args, io)).toBe(0);
    expect(io.stdout.split("\n")[0]).toMatch(/, idle halt, memory lkmm, dropped csd_unlock:release$/);
  });

  it("run --memory tso|lkmm runs a small workload to completion", async () => {
    for (const m of ["tso", "lkmm"]) {
      const io = memoryIo();
      expect(await main(["run", "--cpus", "4", "--ops", "10", "--memory", m, "--json"], io)).toBe(0);
      const rep = JSON.parse(io.stdout) as { problems: unknown[]; config: { memory?: string } };
      expect(rep.problems).toEqual([]);
      expect(rep.config.memory).toBe(m);
    }
  });
});
