import { describe, expect, it } from "@jest/globals";
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { main } from "../src/cli/main";
import { memoryIo } from "../src/cli/io";
import { BENCH_CASE_NAMES, judgeBench, missedTargets, type BenchResult } from "../src/bench-suite";
import { demoArgs } from "../src/demo-args";

async function cli(args: string[], env: NodeJS.ProcessEnv = {}) {
  const io = memoryIo(env, path.resolve(__dirname, "../.."));
  const code = await main(args, io);
  return { code, stdout: io.stdout, stderr: io.stderr, progress: io.lastProgress };
}

const RISCV = "./examples/ports/riscv-sbi.js";

describe("smpcall help, archs", () => {
  it("help UNKNOWN is a usage error (exit 2, one line naming the commands); help run still works", async () => {
    const bad = await cli(["help", "nope"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(
      /^smpcall: help: unknown command 'nope'; commands: archs, run, bench, conform, explore, replay, report\b.* \(see --help\)\n$/,
    );
    expect(bad.stdout).toBe("");
    const ok = await cli(["help", "run"]);
    expect(ok.code).toBe(0);
    expect(ok.stdout + ok.stderr).toMatch(/Usage: smpcall run/);
  });

  it("archs --arch PATH describes an out-of-tree backend: its options and capabilities", async () => {
    const r = await cli(["archs", "--arch", RISCV]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^backend \.\/examples\/ports\/riscv-sbi\.js:\n\nriscv\n/);
    expect(r.stdout).toMatch(/capabilities: multicast=true .*offlineDelivery=dropped/);
    expect(r.stdout).toMatch(/ipi = sbi \| aclint \| imsic \(default sbi\)/);
    const json = JSON.parse((await cli(["archs", "--arch", RISCV, "--json"])).stdout);
    expect(json.archs.map((a: { name: string }) => a.name)).toEqual(["riscv"]);
    expect(Object.keys(json.archs[0].options)).toContain("xlen");
  });

  it("object-valued capabilities print as JSON, not [object Object]", async () => {
    const r = await cli(["archs", "--arch", "sparc"]);
    expect(r.stdout).not.toContain("[object Object]");
    expect(r.stdout).toContain(
      'transientFaultOptions={"wouldBlockRate":0.3,"nackRate":0.3,"mondoQueueDepth":2}',
    );
  });

  it("with $SMPCALL_ARCH set, the listed default says so (a name, or a path that is then listed too)", async () => {
    const plain = await cli(["archs"]);
    expect(plain.stdout).toMatch(
      /^\d+ backend\(s\) found \(default generic; override with --arch or \$SMPCALL_ARCH\)/,
    );
    expect(plain.stdout).toMatch(/\ngeneric \(default\)\n/);
    const byName = await cli(["archs"], { SMPCALL_ARCH: "x86" });
    expect(byName.stdout).toMatch(/\(default x86 from \$SMPCALL_ARCH; override with --arch\)/);
    expect(byName.stdout).toMatch(/\nx86 \(default, from \$SMPCALL_ARCH\)\n/);
    expect(byName.stdout).toMatch(/\ngeneric\n/);
    expect(JSON.parse((await cli(["archs", "--json"], { SMPCALL_ARCH: "x86" })).stdout)).toMatchObject({
      default: "x86",
      defaultSource: "$SMPCALL_ARCH",
    });
    const byPath = await cli(["archs"], { SMPCALL_ARCH: RISCV });
    expect(byPath.stdout).toMatch(/\nriscv \(default, from \$SMPCALL_ARCH\)\n/);
  });

  it("a $SMPCALL_ARCH that names no backend is refused (exit 2), not listed as the default", async () => {
    for (const env of ["nosuch", "X86", "__proto__"]) {
      for (const args of [["archs"], ["archs", "--json"]]) {
        const r = await cli(args, { SMPCALL_ARCH: env });
        expect({ env, args, code: r.code, stdout: r.stdout }).toEqual({ env, args, code: 2, stdout: "" });
        expect(r.stderr).toMatch(
          new RegExp(`^smpcall: .*"${env}".*\\(from \\$SMPCALL_ARCH: set it to one, or unset it\\)\\n$`),
        );
      }
    }
    // --arch names the backend to describe: $SMPCALL_ARCH is not used.
    expect((await cli(["archs", "--arch", "x86"], { SMPCALL_ARCH: "nosuch" })).code).toBe(0);
  });
});

describe("smpcall bench", () => {
  it("names the missed targets (none when the run was not judged)", () => {
    const met = { broadcast1024: true, perTargetRatio: false, heap: false };
    expect(missedTargets({ met } as unknown as BenchResult)).toEqual(["perTargetRatio", "heap"]);
    expect(
      missedTargets({ met: { ...met, perTargetRatio: true, heap: true } } as unknown as BenchResult),
    ).toEqual([]);
    expect(
      missedTargets({ met: { ...met, perTargetRatio: null, heap: null } } as unknown as BenchResult),
    ).toEqual([]);
  });

  it("bench --quick prints pure JSON, not judged (met null), and exits 0 even with figures that miss the targets", async () => {
    // A backend that spends 20 us per interrupt: broadcast/1024 far below 1 M callbacks/s.
    const r = await cli(["bench", "--quick", "--arch", "./examples/test/fixtures/slow-riscv.js"]);
    const result = JSON.parse(r.stdout) as BenchResult;
    expect(result.cases.map((c) => c.name)).toEqual(BENCH_CASE_NAMES);
    expect(result.heapMbFor8192Cpus).toBeGreaterThan(0);
    // Judged, these figures would miss (the exit was 1 for them before --quick went unjudged).
    expect(judgeBench(result)).toMatchObject({ broadcast1024: false, broadcast1024VsFloor: false });
    expect(result.judged).toBe(false);
    expect(result.met).toEqual({
      broadcast1024: null,
      perTargetRatio: null,
      heap: null,
      broadcast1024VsFloor: null,
      traceMemory: null,
    });
    expect(missedTargets(result)).toEqual([]);
    expect({ code: r.code, stderr: r.stderr }).toEqual({
      code: 0,
      stderr:
        'smpcall bench: --quick: figures not judged against the targets (1/50 of the ops, one repetition: not comparable; "met" is null); run without --quick to judge them\n',
    });
    const n = BENCH_CASE_NAMES.length;
    expect(r.progress).toMatch(
      new RegExp(`^bench riscv-slow: ${n} of ${n} cases measured \\(broadcast/1024 \\d+ callbacks/s, `),
    );
  }, 60_000);

  it("measures the heap after a real full GC without --expose-gc (so npm run bench and smpcall bench agree)", () => {
    // A child node without --expose-gc: the suite's collector must still run and free garbage.
    const script = `
      const v8 = require("node:v8"), vm = require("node:vm");
      if (typeof globalThis.gc !== "undefined") throw new Error("gc already exposed");
      let junk = []; for (let i = 0; i < 200000; i++) junk.push({ i, s: "x" + i });
      const before = process.memoryUsage().heapUsed; junk = null;
      v8.setFlagsFromString("--expose-gc"); vm.runInNewContext("gc")();
      process.stdout.write(String((before - process.memoryUsage().heapUsed) / 1048576));`;
    const r = spawnSync(process.execPath, ["-e", script], { encoding: "utf8" });
    expect(r.stderr).toBe("");
    expect(Number(r.stdout)).toBeGreaterThan(5);
  });
});

describe("npm start (the demo)", () => {
  it("runs 8 CPUs of the mixed workload; the user's own --cpus/--workload win instead of being refused as repeats", async () => {
    expect(demoArgs([])).toEqual(["run", "--cpus", "8", "--workload", "mixed"]);
    expect(demoArgs(["--cpus", "4", "--ops", "5"])).toEqual([
      "run",
      "--workload",
      "mixed",
      "--cpus",
      "4",
      "--ops",
      "5",
    ]);
    expect(demoArgs(["--workload=broadcast"])).toEqual(["run", "--cpus", "8", "--workload=broadcast"]);
    const r = await cli(demoArgs(["--cpus", "4", "--ops", "5", "--json"]));
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).config.cpus).toBe(4);
  });
});

describe("--kernel help", () => {
  it("says what each profile is", async () => {
    const r = await cli(["run", "--help"]);
    const text = (r.stdout + r.stderr).replace(/\s+/g, " ");
    expect(text).toContain("6.1 = Linux 6.1 LTS (kernel/smp.c as in Debian's linux-source-6.1)");
    expect(text).toContain(
      "mainline = mainline Linux (kernel/smp.c as in 6.12, checked against Debian's linux-source-6.12",
    );
  });
});
