import { describe, expect, it } from "@jest/globals";
import * as path from "node:path";
import { main } from "../src/cli/main";
import { memoryIo } from "../src/cli/io";

async function cli(args: string[]) {
  const io = memoryIo({}, path.resolve(__dirname, "../.."));
  const code = await main(args, io);
  return { code, stdout: io.stdout, stderr: io.stderr };
}

describe("--idle and --workload sched-wakeups on the CLI", () => {
  it("run: --idle mwait is reported and saves IPIs; a bad mode is a usage error naming the modes", async () => {
    const halt = JSON.parse(
      (await cli(["run", "--cpus", "8", "--workload", "sched-wakeups", "--ops", "300", "--json"])).stdout,
    );
    const mwait = JSON.parse(
      (
        await cli([
          "run",
          "--cpus",
          "8",
          "--workload",
          "sched-wakeups",
          "--ops",
          "300",
          "--idle",
          "mwait",
          "--json",
        ])
      ).stdout,
    );
    expect([halt.config.idle, mwait.config.idle]).toEqual(["halt", "mwait"]);
    expect(mwait.counts.idlePollWakeups).toBeGreaterThan(halt.counts.idlePollWakeups);
    expect(mwait.counts.queueEntries.ttwu).toBeGreaterThan(0);
    const bad = await cli(["run", "--idle", "deep"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/halt, mwait, poll/);
    for (const arch of ["sparc", "powerpc"]) {
      const noMwait = await cli(["run", "--arch", arch, "--idle", "mwait"]);
      expect([noMwait.code, noMwait.stdout]).toEqual([2, ""]);
      expect(noMwait.stderr).toBe(
        `smpcall: backend ${arch} has no idle mode mwait (its kernel has: halt, poll); MWAIT idle is x86's: pick one of those with --idle / the idle option\n`,
      );
    }
    const listed = JSON.parse((await cli(["archs", "--json"])).stdout) as {
      archs: { name: string; idleModes: string[]; idlePollingFlag: boolean }[];
    };
    expect(listed.archs.map((a) => [a.name, a.idleModes.join(","), a.idlePollingFlag])).toEqual([
      ["generic", "halt,mwait,poll", true],
      ["powerpc", "halt,poll", true],
      ["sparc", "halt,poll", true],
      ["x86", "halt,mwait,poll", true],
    ]);
  });

  it("explore --idle poll carries the mode in the schedule; replay runs it, and refuses another --idle", async () => {
    const ex = await cli([
      "explore",
      "--scenario",
      "seed-2008",
      "--policy",
      "naive",
      "--idle",
      "poll",
      "--json",
    ]);
    expect(ex.code).toBe(1);
    const schedule = JSON.parse(ex.stdout).violation.schedule as string;
    expect(schedule).toMatch(/,idle=poll,/);
    const rp = await cli(["replay", "--schedule", schedule]);
    expect(rp.code).toBe(1);
    const wrong = await cli(["replay", "--schedule", schedule, "--idle", "halt"]);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/explored with idle poll/);
  });

  it("conform --idle mwait passes on the generic backend: the checks that count IPIs to idle CPUs keep them halting", async () => {
    const r = await cli([
      "conform",
      "--idle",
      "mwait",
      "--check",
      "single-ipi-exact-target",
      "--check",
      "statistics-consistent",
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/2 passed, 0 failed/);
  });
});
