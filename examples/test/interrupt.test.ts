import { describe, expect, it } from "@jest/globals";
import { spawn, spawnSync } from "node:child_process";
import * as path from "node:path";
import { RESTORE_TERMINAL, stallTimeoutS } from "../src/cli/interrupt";

const BIN = path.resolve(__dirname, "../bin/smpcall.js");

/** Run the CLI in a child process under `$SMPCALL_STALL_TIMEOUT_S` = `stall` (plus `env`), killed after `timeoutMs`. */
function smpcall(
  args: readonly string[],
  stall: string,
  timeoutMs: number,
  env: Record<string, string> = {},
) {
  return spawnSync(process.execPath, [BIN, ...args], {
    encoding: "utf8",
    env: { ...process.env, ...env, SMPCALL_STALL_TIMEOUT_S: stall },
    timeout: timeoutMs,
  });
}

/**
 * Run `smpcall ARGS` on a real terminal (a pseudo-terminal from util-linux `script`), press
 * Ctrl-C once the output matches `ready` (or after `ready` ms, for commands that print nothing
 * until they end), and return what the terminal showed and the exit status.
 */
function interruptOnTerminal(
  args: string[],
  ready: RegExp | number,
): Promise<{ code: number | null; screen: string }> {
  const found = spawnSync("script", ["--version"], { encoding: "utf8" });
  if (found.error)
    throw new Error("this test needs util-linux `script` for a pseudo-terminal (Debian: bsdutils)");
  const command = [process.execPath, BIN, ...args].map((a) => `'${a}'`).join(" ");
  // Progress bars are off under CI=true (as on any CI log); this test is about a person's terminal.
  const env = { ...process.env };
  delete env.CI;
  const child = spawn("script", ["-qfec", command, "/dev/null"], { stdio: ["pipe", "pipe", "pipe"], env });
  let screen = "";
  let pressed = false;
  const press = (): void => {
    pressed = true;
    child.stdin.write("\x03"); // the terminal turns it into SIGINT for the foreground job
  };
  return new Promise((resolve, reject) => {
    const timer = typeof ready === "number" ? setTimeout(press, ready) : null;
    const guard = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`no exit within 60 s; the terminal showed:\n${screen}`));
    }, 60_000);
    child.stdout.on("data", (d: Buffer) => {
      screen += d.toString("utf8");
      if (!pressed && typeof ready !== "number" && ready.test(screen)) press();
    });
    child.on("exit", (code) => {
      clearTimeout(guard);
      if (timer !== null) clearTimeout(timer);
      resolve({ code, screen });
    });
  });
}

describe("Ctrl-C on a terminal", () => {
  it("explore: the cursor and line wrap come back, the schedules explored so far are printed, exit 130", async () => {
    const r = await interruptOnTerminal(
      ["explore", "--scenario", "seed-2008", "--strategy", "random", "--runs", "100000000"],
      /\d{3,}\/100000000 schedules/,
    );
    expect(r.code).toBe(130);
    expect(r.screen).toContain("\x1b[?25l"); // the bar had hidden the cursor...
    const tail = r.screen.slice(r.screen.lastIndexOf("^C"));
    expect(tail).toContain(RESTORE_TERMINAL); // ...and it is shown again, line wrap on
    const m = /smpcall: interrupted: explore modern: (\d+) schedule\(s\) explored; no verdict\r?\n/.exec(
      tail,
    );
    expect(m).not.toBeNull();
    expect(Number(m![1])).toBeGreaterThan(0);
  }, 70_000);

  it("run: the events simulated so far, no report, exit 130", async () => {
    const r = await interruptOnTerminal(
      ["run", "--cpus", "4096", "--workload", "broadcast", "--ops", "100000"],
      /programs \| [1-9]\d* events/,
    );
    expect(r.code).toBe(130);
    const tail = r.screen.slice(r.screen.lastIndexOf(RESTORE_TERMINAL) + RESTORE_TERMINAL.length);
    expect(tail).toMatch(
      /^\r?\nsmpcall: interrupted: run broadcast on 4096 CPUs: [1-9]\d* events, \d+ ns simulated, \d+ program\(s\) still running; no report/,
    );
    expect(r.screen).not.toMatch(/Problems|Calls issued/);
  }, 70_000);

  it("conform and bench: how far the kit or the suite got, exit 130", async () => {
    // Pressed once one check has ended and the next is running: the kit is mid-way whatever the machine's speed.
    const kit = await interruptOnTerminal(
      ["conform", "--schedules", "5000"],
      /(PASS|FAIL) .*\r?\n(.*\r?\n)*RUNNING [a-z-]+ \.\.\./,
    );
    expect(kit.code).toBe(130);
    expect(kit.screen).not.toMatch(/passed, \d+ failed, \d+ skipped/); // the table never came
    expect(kit.screen).toMatch(
      /smpcall: interrupted: conform generic: \d+ of \d+ checks done \(\d+ passed, \d+ failed\), [a-z-]+ running; no verdict/,
    );
    const bench = await interruptOnTerminal(["bench"], 4000);
    expect(bench.code).toBe(130);
    expect(bench.screen).not.toContain("perTargetCostRatio8192vs64"); // nor the JSON
    expect(bench.screen).toMatch(
      /smpcall: interrupted: bench generic: \d of 6 cases measured.*, [a-z-]+\/\d+ running; no result/,
    );
  }, 130_000);
});

describe("a module that loops without yielding cannot hang the CLI", () => {
  const SPIN = path.resolve(__dirname, "fixtures/spin-riscv.js");
  const PORT = path.resolve(__dirname, "../ports/riscv-sbi.js");

  it("run with such a backend stops after $SMPCALL_STALL_TIMEOUT_S without progress, exit 1, one line naming the cause", () => {
    const t0 = Date.now();
    const r = smpcall(["run", "--arch", SPIN, "--cpus", "4", "--ops", "20"], "3", 60_000);
    expect(r.status).toBe(1);
    expect(Date.now() - t0).toBeLessThan(30_000);
    expect(r.stderr).toMatch(
      /^smpcall: no progress for 3 s \(before any progress was reported\): code from your module \(--arch or --scenario PATH, or the schedule's\) is running without returning/,
    );
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stdout).toBe("");
  }, 60_000);

  it("a module that calls process.exit(0) ends the command with exit 1 and one line, never a clean status", () => {
    const EXIT = path.resolve(__dirname, "fixtures/exit-riscv.js");
    const line =
      "smpcall: the command ended without a result: code it ran called process.exit(0) " +
      "(a backend or scenario module? it must return or throw, never exit the process); no verdict\n";
    for (const args of [
      ["run", "--arch", EXIT, "--cpus", "4", "--ops", "20", "--json"],
      ["explore", "--scenario", "seed-2008", "--cpus", "3", "--arch", EXIT, "--json"],
      ["explore", "--scenario", "seed-2008", "--cpus", "3", "--arch", EXIT, "--workers", "2", "--json"],
    ]) {
      const r = smpcall(args, "10", 60_000);
      expect({ args, status: r.status, stdout: r.stdout, stderr: r.stderr }).toEqual({
        args,
        status: 1,
        stdout: "",
        stderr: line,
      });
    }
  }, 120_000);

  it("a trace written to a pipe whose reader went away is an output error (exit 2), not an internal error", () => {
    // A shell pipe, as `smpcall run --trace /dev/stdout | head -c 10` makes it: the trace is
    // larger than the pipe's buffer, so the copy of its lines meets the closed pipe (EPIPE).
    const r = spawnSync(
      "bash",
      [
        "-c",
        '"$0" "$1" run --ops 2000 --trace /dev/stdout | head -c 10 > /dev/null; exit "${PIPESTATUS[0]}"',
        process.execPath,
        BIN,
      ],
      { encoding: "utf8", timeout: 60_000 },
    );
    expect({ status: r.status, stderr: r.stderr }).toEqual({
      status: 2,
      stderr: "smpcall: cannot write trace file /dev/stdout: EPIPE: broken pipe, write\n",
    });
  }, 60_000);

  it("the same command with a working module by path runs in the watched worker and prints its report", () => {
    const r = smpcall(["run", "--arch", PORT, "--cpus", "4", "--ops", "20", "--json"], "3", 60_000);
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout).config.arch).toBe("riscv");
  }, 60_000);

  it("archs with a module whose loading never returns (by --arch or $SMPCALL_ARCH) stops too, exit 1", () => {
    const LOOP = path.resolve(__dirname, "fixtures/load-loop.js");
    for (const [args, env] of [
      [["archs", "--arch", LOOP], {}],
      [["archs"], { SMPCALL_ARCH: LOOP }],
    ] as const) {
      const r = smpcall(args, "2", 30_000, env);
      expect({ args, status: r.status, stdout: r.stdout }).toEqual({ args, status: 1, stdout: "" });
      expect(r.stderr).toMatch(/^smpcall: no progress for 2 s \(before any progress was reported\)/);
    }
    const ok = smpcall(["archs", "--arch", PORT, "--json"], "2", 30_000);
    expect(ok.status).toBe(0);
    expect(JSON.parse(ok.stdout).archs[0].name).toBe("riscv");
  }, 90_000);

  it("conform with a module whose loading never returns (by --arch or $SMPCALL_ARCH) stops after $SMPCALL_STALL_TIMEOUT_S, exit 1, one line", () => {
    const LOOP = path.resolve(__dirname, "fixtures/load-loop.js");
    for (const [args, env] of [
      [["conform", "--arch", LOOP, "--check", "descriptor-valid"], {}],
      [["conform", "--check", "descriptor-valid", "--check-timeout", "600"], { SMPCALL_ARCH: LOOP }],
    ] as const) {
      const t0 = Date.now();
      const r = smpcall(args, "2", 30_000, env);
      expect({ args, status: r.status, stdout: r.stdout }).toEqual({ args, status: 1, stdout: "" });
      expect(Date.now() - t0).toBeLessThan(20_000);
      expect(r.stderr).toBe(
        `smpcall: backend module ${LOOP} did not finish loading within 2 s: its top-level code is running without returning, ` +
          "e.g. an endless loop; stopped before any check ran (fix the module; SMPCALL_STALL_TIMEOUT_S sets the limit)\n",
      );
    }
  }, 90_000);

  it("conform with a module that loads once but loops when its worker loads it again stops after $SMPCALL_STALL_TIMEOUT_S, exit 1, one line", () => {
    const SECOND = path.resolve(__dirname, "fixtures/second-load-riscv.js");
    const t0 = Date.now();
    const r = smpcall(
      ["conform", "--arch", SECOND, "--check", "descriptor-valid", "--check-timeout", "600"],
      "2",
      60_000,
    );
    expect(r.status).toBe(1);
    expect(Date.now() - t0).toBeLessThan(20_000);
    // The command's own load returned (the header names the backend); the kit's worker's did not.
    expect(r.stdout).toBe("conformance kit: arch riscv, kernel 6.1\n\n");
    expect(r.stderr).toBe(
      `smpcall: backend module ${SECOND} did not finish loading within 2 s in the conformance kit's worker thread, ` +
        "which loads it anew (the command's own load of it returned): its top-level code is running without returning, " +
        "e.g. an endless loop that depends on what an earlier load left behind (a global, a file, an environment variable); " +
        "stopped before any check ran (make the module's top-level code do the same on every load; SMPCALL_STALL_TIMEOUT_S sets the limit)\n",
    );
  }, 60_000);

  it("explore --workers with a module that loops when a worker loads it again stops after $SMPCALL_STALL_TIMEOUT_S, exit 1, one line; a working module still gets its verdict", () => {
    const SECOND = path.resolve(__dirname, "fixtures/second-load-scenario.js");
    // 5 s, not 2: the command's own set-up before its workers start (its load, the split of the
    // search) reports no progress, and on a loaded machine 2 s may not cover it.
    const t0 = Date.now();
    const r = smpcall(["explore", "--scenario", SECOND, "--policy", "modern", "--workers", "2"], "5", 60_000);
    expect(r.status).toBe(1);
    expect(Date.now() - t0).toBeLessThan(20_000);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(
      new RegExp(
        `^smpcall: scenario module ${SECOND.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} did not finish loading within 5 s in explore worker [01], ` +
          "which loads it anew \\(the command's own load returned\\): top-level code is running without returning, .*" +
          "search stopped, no verdict \\(make the module's top-level code do the same on every load; SMPCALL_STALL_TIMEOUT_S sets the limit\\)\n$",
      ),
    );
    const ok = smpcall(
      [
        "explore",
        "--scenario",
        path.resolve(__dirname, "fixtures/pair-scenario.js"),
        "--policy",
        "modern",
        "--workers",
        "2",
      ],
      "30",
      60_000,
    );
    expect({ status: ok.status, stderr: ok.stderr }).toEqual({ status: 0, stderr: "" });
    expect(ok.stdout).toMatch(/no violation found/);
  }, 90_000);

  it("explore --workers with a worker stuck in a module's code mid-search stops after $SMPCALL_STALL_TIMEOUT_S, exit 1 (the progress tick does not renew the watch when nothing moved)", () => {
    // The limit is longer than the 2 s progress tick: a tick sent without change would renew it for ever.
    const r = smpcall(
      [
        "explore",
        "--scenario",
        path.resolve(__dirname, "fixtures/late-spin-scenario.js"),
        "--policy",
        "modern",
        "--workers",
        "2",
      ],
      "5",
      60_000,
    );
    expect(r.status).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(
      /^smpcall: no progress for 5 s \(explore modern, 2 worker\(s\): \d+ schedule\(s\) explored, .*; no verdict\): code from your module/,
    );
  }, 60_000);

  it("bench with a module path: the trace-memory child gets the module's path (it got the backend's name: exit 70), and a module that loops on that second load stops the bench, exit 1", () => {
    const ok = smpcall(["bench", "--quick", "--arch", PORT], "30", 120_000);
    // --quick figures are not comparable: not judged against the targets, exit 0 and a note.
    expect(ok.status).toBe(0);
    expect(ok.stderr).toMatch(/^smpcall bench: --quick: figures not judged against the targets .*\n$/);
    const result = JSON.parse(ok.stdout) as { traceMemory: { command: string; peakRssMb: number } };
    expect(result.traceMemory.command).toContain(`run --arch ${PORT} --cpus 8192`);
    expect(result.traceMemory.peakRssMb).toBeGreaterThan(0);
    const t0 = Date.now();
    const r = smpcall(
      ["bench", "--quick", "--arch", path.resolve(__dirname, "fixtures/second-load-riscv.js")],
      "5",
      120_000,
    );
    expect(r.status).toBe(1);
    expect(Date.now() - t0).toBeLessThan(60_000);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(
      /^smpcall: no progress for 5 s \(bench riscv: .*; no result\): code from your module/,
    );
  }, 240_000);

  it("conform: once the backend is loaded, a check is stopped by --check-timeout, not by the shorter stall limit", () => {
    const r = smpcall(
      [
        "conform",
        "--arch",
        SPIN,
        "--cpus",
        "3",
        "--check",
        "single-ipi-exact-target",
        "--check-timeout",
        "6",
        "--json",
      ],
      "2",
      60_000,
    );
    expect(r.status).toBe(1);
    expect(r.stderr).toBe("");
    const out = JSON.parse(r.stdout) as { results: { name: string; status: string; message: string }[] };
    expect(out.results.map((x) => [x.name, x.status])).toEqual([["single-ipi-exact-target", "fail"]]);
    expect(out.results[0].message).toMatch(
      /^no result after 6 s of wall time: the check's code did not return/,
    );
  }, 60_000);
});

describe("$SMPCALL_STALL_TIMEOUT_S is checked, not silently replaced", () => {
  it("whole seconds 1..2147483 are taken; unset is 60", () => {
    expect(stallTimeoutS({})).toBe(60);
    expect(stallTimeoutS({ SMPCALL_STALL_TIMEOUT_S: "1" })).toBe(1);
    expect(stallTimeoutS({ SMPCALL_STALL_TIMEOUT_S: " 90 " })).toBe(90);
    expect(stallTimeoutS({ SMPCALL_STALL_TIMEOUT_S: "2147483" })).toBe(2147483);
  });

  it.each(["", "abc", "0", "1.5", "2147484"])(
    "%j: exit 2 before anything runs, one line naming the variable and the range",
    (value) => {
      const port = path.resolve(__dirname, "../ports/riscv-sbi.js");
      const r = smpcall(["run", "--arch", port, "--cpus", "2", "--ops", "2"], value, 30_000);
      expect(r.status).toBe(2);
      expect(r.stdout).toBe("");
      expect(r.stderr).toBe(
        `smpcall: bad $SMPCALL_STALL_TIMEOUT_S ${JSON.stringify(value)}: give whole seconds without progress, 1..2147483 (unset: 60)\n`,
      );
    },
  );
});
