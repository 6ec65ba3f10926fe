import { describe, expect, it } from "@jest/globals";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { main } from "../src/cli/main";
import { memoryIo } from "../src/cli/io";
import { decodeSchedule, encodeSchedule, type ScheduleSpec } from "@smpcall/core";

const REPO = path.resolve(__dirname, "../..");
const RISCV = path.join(REPO, "examples/ports/riscv-sbi.js");
const PAIR = path.join(__dirname, "fixtures/pair-scenario.js");

/** Run the CLI in `cwd` (default: a fresh empty directory, so nothing resolves by accident). */
async function cli(args: string[], cwd = fs.mkdtempSync(path.join(os.tmpdir(), "smpcall-replay-"))) {
  const io = memoryIo({});
  (io as { cwd: string }).cwd = cwd;
  const code = await main(args, io);
  return { code, stdout: io.stdout, stderr: io.stderr };
}

/** explore --json in `cwd`: the first violation (message and schedule). */
async function findViolation(args: string[], cwd: string) {
  const e = await cli(["explore", "--json", ...args], cwd);
  expect(e.code).toBe(1);
  return JSON.parse(e.stdout).violation as { message: string; schedule: string; kind: string };
}

/** replay --json of `schedule` from another directory: what it found. */
async function replayElsewhere(schedule: string, extra: string[] = []) {
  const r = await cli(["replay", "--json", "--schedule", schedule, ...extra]);
  return { ...r, json: r.code === 2 ? null : JSON.parse(r.stdout) };
}

function oneLine(stderr: string): void {
  expect(stderr.trimEnd().split("\n")).toHaveLength(1);
  expect(stderr).not.toMatch(/\n\s+at /);
}

describe("exact replay: the schedule carries everything the run needs", () => {
  it("--arch-opt: the options are in the schedule; the replay reproduces the counterexample (they change its timing)", async () => {
    const args = ["--scenario", "seed-2008", "--policy", "naive", "--cpus", "3", "--calls", "2"];
    const slow = await findViolation([...args, "--strategy", "random", "--arch-opt", "latencyNs=5000"], REPO);
    expect(slow.schedule).toContain("arch-opt=latencyNs%3D5000");
    const r = await replayElsewhere(slow.schedule);
    expect(r.code).toBe(1);
    expect(r.json.violation.message).toBe(slow.message);
    // The same choices under default options are a different run: the options matter.
    const plain = await findViolation([...args, "--strategy", "random"], REPO);
    expect(plain.message).not.toBe(slow.message);
  });

  it("an out-of-tree --arch module (with its options) replays from another directory; --arch PATH when it moved", async () => {
    const v = await findViolation(
      [
        "--scenario",
        "seed-2008",
        "--policy",
        "naive",
        "--cpus",
        "3",
        "--strategy",
        "pct",
        "--arch",
        "./examples/ports/riscv-sbi.js",
        "--arch-opt",
        "ipi=aclint",
      ],
      REPO,
    );
    expect(v.schedule).toContain(`arch=riscv,arch-module=${RISCV}`);
    const r = await replayElsewhere(v.schedule);
    expect(r.code).toBe(1);
    expect(r.json.violation.message).toBe(v.message);
    // The module moved: refused with a hint, then replayed with --arch.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "smpcall-moved-"));
    const moved = v.schedule.replace(RISCV, path.join(dir, "gone.js"));
    const encoded = moved.split(",sum=")[0];
    const { scheduleChecksum } = await import("@smpcall/core");
    const resealed = `${encoded},sum=${scheduleChecksum(encoded)}`;
    const gone = await replayElsewhere(resealed);
    expect(gone.code).toBe(2);
    expect(gone.stderr).toMatch(
      /backend module .*gone\.js no longer exists: give its new location with --arch PATH/,
    );
    oneLine(gone.stderr);
    const again = await replayElsewhere(resealed, ["--arch", RISCV]);
    expect(again.code).toBe(1);
    expect(again.json.violation.message).toBe(v.message);
    const wrong = await replayElsewhere(v.schedule, ["--arch", "generic"]);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/the schedule is for backend riscv, but generic is backend generic/);
  });

  it("a scenario module: the schedule names its path; the replay needs no --scenario", async () => {
    const v = await findViolation(
      [
        "--scenario",
        "./examples/test/fixtures/pair-scenario.js",
        "--policy",
        "naive",
        "--strategy",
        "random",
      ],
      REPO,
    );
    expect(v.schedule).toContain(`scenario=pair-test,scenario-module=${PAIR}`);
    const r = await replayElsewhere(v.schedule);
    expect(r.code).toBe(1);
    expect(r.json.violation.message).toBe(v.message);
    const wrong = await replayElsewhere(v.schedule, ["--scenario", "seed-2008"]);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(
      /the schedule is for scenario pair-test, but seed-2008 is scenario seed-2008/,
    );
  });

  it("--alloc-fail and --max-steps are carried: a sampled allocation-failure run replays exactly", async () => {
    const v = await findViolation(
      [
        "--scenario",
        "seed-2008",
        "--policy",
        "naive",
        "--cpus",
        "3",
        "--calls",
        "2",
        "--strategy",
        "random",
        "--alloc-fail",
        "0.5",
        "--max-steps",
        "5000",
      ],
      REPO,
    );
    expect(v.schedule).toMatch(/,alloc-fail=0\.5,max-steps=5000,/);
    const r = await replayElsewhere(v.schedule);
    expect(r.code).toBe(1);
    expect(r.json.violation.message).toBe(v.message);
  });

  it("a schedule whose run no longer ends as explore recorded it (a backend default changed) is refused, not run", async () => {
    const { scheduleChecksum } = await import("@smpcall/core");
    const reseal = (s: string, from: string, to: string) => {
      const body = s.split(",sum=")[0].replace(from, to);
      return `${body},sum=${scheduleChecksum(body)}`;
    };
    for (const strategy of ["dfs", "random"]) {
      const v = await findViolation(
        [
          ...["--scenario", "seed-2008-mask", "--policy", "target-mask", "--cpus", "3"],
          ...["--strategy", strategy, "--arch-opt", "latencyNs=3000"],
        ],
        REPO,
      );
      const end = /,end=(completed|deadlock)\.(\d+)\.[0-9a-z]+,/.exec(v.schedule);
      expect(end).not.toBeNull();
      const checked = await replayElsewhere(v.schedule);
      expect({ code: checked.code, endChecked: checked.json.endChecked }).toEqual({
        code: 1,
        endChecked: true,
      });
      // The same choices with the option gone: as if the backend's default latency had changed.
      // They still fit the run, which ends elsewhere: refused, one line, instead of shown.
      const moved = await replayElsewhere(reseal(v.schedule, ",arch-opt=latencyNs%3D3000", ""));
      expect({ strategy, code: moved.code, stdout: moved.stdout }).toEqual({ strategy, code: 2, stdout: "" });
      oneLine(moved.stderr);
      expect(moved.stderr).toMatch(
        new RegExp(
          `^smpcall: the schedule's run ended ${end![1]} at ${end![2]} ns when explore recorded it, but replays to \\w+ at \\d+ ns.*: the backend \\(or its option defaults\\), the scenario or the kernel model changed since, so this is not the run explore reported; run smpcall explore again\n$`,
        ),
      );
      // A schedule made before the field existed still replays (nothing to check it against),
      // and says so: it must not pass for a replay checked against the recorded run.
      const old = reseal(v.schedule, end![0], ",");
      expect(old).not.toContain(",end=");
      const unchecked = await replayElsewhere(old);
      expect({ code: unchecked.code, endChecked: unchecked.json.endChecked }).toEqual({
        code: 1,
        endChecked: false,
      });
      const text = await cli(["replay", "--schedule", old]);
      expect(text.code).toBe(1);
      expect(text.stdout).toContain(
        '  not checked against the run explore recorded: the schedule has no "end" field (made before smpcall wrote it, or cut out)',
      );
      expect((await cli(["replay", "--schedule", v.schedule])).stdout).not.toContain("not checked");
    }
    const bad = await replayElsewhere(
      reseal(
        "smp2,scenario=seed-2008,policy=naive,arch=generic,cpus=2,calls=1,seed=1,end=x,n=0,choices=",
        "",
        "",
      ),
    );
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe(
      'smpcall: bad schedule at character 77: field "end" is "x", expected STATUS.TIME.DIGEST as explore writes it\n',
    );
  });

  it("the printed replay command reproduces the counterexample (text output)", async () => {
    const e = await cli([
      "explore",
      "--scenario",
      "seed-2008",
      "--policy",
      "naive",
      "--arch-opt",
      "latencyNs=300",
    ]);
    const cmd = /replay: +npx smpcall (replay --schedule \S+) --trace counterexample\.json/.exec(e.stdout)!;
    const r = await cli(cmd[1].split(" "));
    expect(r.code).toBe(1);
    const cycle = /wait-for cycle: .*/.exec(e.stdout)![0];
    expect(r.stdout).toContain(cycle);
  });

  it("a replay file: explore --save-schedule writes it, replay --schedule-file reads it (and explore --json output)", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "smpcall-file-"));
    const e = await cli(
      ["explore", "--scenario", "seed-2008", "--policy", "naive", "--json", "--save-schedule", "ce.json"],
      dir,
    );
    expect(e.code).toBe(1);
    const saved = JSON.parse(fs.readFileSync(path.join(dir, "ce.json"), "utf8"));
    expect(saved).toMatchObject({
      scenario: "seed-2008",
      policy: "naive",
      arch: "generic",
      cpus: 2,
      kind: "deadlock",
    });
    expect(saved.schedule).toBe(JSON.parse(e.stdout).violation.schedule);
    const r = await cli(["replay", "--schedule-file", "ce.json"], dir);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/wait-for cycle: CPU 0 -> CPU 1 -> CPU 0/);
    fs.writeFileSync(path.join(dir, "out.json"), e.stdout);
    expect((await cli(["replay", "--schedule-file", "out.json"], dir)).code).toBe(1);
    const none = await cli(["replay"], dir);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/give exactly one of --schedule STRING and --schedule-file FILE/);
  });

  it("--save-schedule: a run without a violation removes the schedule an earlier run left in FILE (replaying it would replay that run's failure)", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "smpcall-stale-"));
    const NAIVE = ["explore", "--scenario", "seed-2008", "--policy", "naive", "--save-schedule", "s.json"];
    expect((await cli(NAIVE, dir)).code).toBe(1);
    expect(JSON.parse(fs.readFileSync(path.join(dir, "s.json"), "utf8")).kind).toBe("deadlock");
    const clean = [
      "explore",
      "--scenario",
      "seed-2008",
      "--policy",
      "global-lock",
      "--save-schedule",
      "s.json",
    ];
    const r = await cli(clean, dir);
    expect({ code: r.code, stderr: r.stderr }).toEqual({
      code: 0,
      stderr:
        "smpcall: no violation, so no schedule written to s.json (the schedule an earlier run wrote there was removed, so that it is not taken for this run's)\n",
    });
    expect(fs.existsSync(path.join(dir, "s.json"))).toBe(false);
    const again = await cli(clean, dir);
    expect(again.stderr).toBe("smpcall: no violation, so no schedule written to s.json\n");
    // --workers removes a stale one too (a process: the workers run the built script).
    expect((await cli(NAIVE, dir)).code).toBe(1);
    expect(fs.existsSync(path.join(dir, "s.json"))).toBe(true);
    const w = spawnSync(
      process.execPath,
      [path.join(REPO, "examples/bin/smpcall.js"), ...clean, "--workers", "1"],
      {
        cwd: dir,
        encoding: "utf8",
        timeout: 60_000,
      },
    );
    expect({ status: w.status, stderr: w.stderr }).toEqual({ status: 0, stderr: r.stderr });
    expect(fs.existsSync(path.join(dir, "s.json"))).toBe(false);
  }, 60_000);

  it("--save-schedule never overwrites or removes a file that is not a schedule file: refused before the run (exit 2)", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "smpcall-notours-"));
    const texts = {
      "notes.txt": "my notes\n",
      "other.json": '{"schedule": 1, "kind": "deadlock"}\n',
      "result.json": "", // filled below: explore --json output, not what --save-schedule writes
    };
    const e = await cli(["explore", "--scenario", "seed-2008", "--policy", "naive", "--json"], dir);
    texts["result.json"] = e.stdout;
    for (const [name, text] of Object.entries(texts)) {
      fs.writeFileSync(path.join(dir, name), text);
      for (const policy of ["naive", "global-lock"]) {
        const r = await cli(
          ["explore", "--scenario", "seed-2008", "--policy", policy, "--save-schedule", name],
          dir,
        );
        expect({ name, policy, code: r.code, stdout: r.stdout }).toEqual({
          name,
          policy,
          code: 2,
          stdout: "",
        });
        expect(r.stderr).toBe(
          `smpcall: bad --save-schedule "${name}": the file exists and is not a schedule file (the JSON explore --save-schedule writes); explore replaces such a file with this run's schedule, or removes it when the run finds no violation, and touches no other: give another file name, or move this one away first\n`,
        );
        expect(fs.readFileSync(path.join(dir, name), "utf8")).toBe(text);
      }
    }
    // An empty file holds nothing to lose: kept as it is without a violation, written with one.
    fs.writeFileSync(path.join(dir, "empty.json"), "");
    const clean = await cli(
      ["explore", "--scenario", "seed-2008", "--policy", "global-lock", "--save-schedule", "empty.json"],
      dir,
    );
    expect(clean.code).toBe(0);
    expect(fs.readFileSync(path.join(dir, "empty.json"), "utf8")).toBe("");
    const found = await cli(
      ["explore", "--scenario", "seed-2008", "--policy", "naive", "--save-schedule", "empty.json"],
      dir,
    );
    expect(found.code).toBe(1);
    expect(JSON.parse(fs.readFileSync(path.join(dir, "empty.json"), "utf8")).kind).toBe("deadlock");
  });

  it("a replay file from explore --policy all --json: its one violation replays; none or several is refused, naming them", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "smpcall-all-"));
    const e = await cli(["explore", "--scenario", "seed-2008", "--policy", "all", "--json"], dir);
    const all = JSON.parse(e.stdout);
    const naive = all.results.find((r: { policy: string }) => r.policy === "naive");
    expect(all.results.filter((r: { violation: unknown }) => r.violation !== null)).toEqual([naive]);
    fs.writeFileSync(path.join(dir, "all.json"), e.stdout);
    const r = await cli(["replay", "--schedule-file", "all.json", "--json"], dir);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout).violation.message).toBe(naive.violation.message);
    // The same file with the violation taken out, and with it copied to a second policy.
    const clean = { ...all, results: all.results.map((x: object) => ({ ...x, violation: null })) };
    fs.writeFileSync(path.join(dir, "none.json"), JSON.stringify(clean));
    const none = await cli(["replay", "--schedule-file", "none.json"], dir);
    expect({ code: none.code, stderr: none.stderr }).toEqual({
      code: 2,
      stderr:
        "smpcall: replay file none.json is a comparison of policies (explore --policy all --json) in which no policy has a violation: nothing to replay\n",
    });
    const two = { ...all, results: [naive, { ...naive, policy: "modern" }] };
    fs.writeFileSync(path.join(dir, "two.json"), JSON.stringify(two));
    const both = await cli(["replay", "--schedule-file", "two.json"], dir);
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(
      /with 2 violations \(naive, modern\): write the one to replay with explore --policy NAME --json/,
    );
  });

  it("--kernel mainline is carried: the replay needs no --kernel, and --kernel only checks it", async () => {
    const v = await findViolation(
      ["--scenario", "seed-2008", "--policy", "naive", "--kernel", "mainline"],
      REPO,
    );
    expect(v.schedule).toContain(",kernel=mainline,");
    const r = await replayElsewhere(v.schedule);
    expect(r.code).toBe(1);
    expect(r.json.violation.message).toBe(v.message);
    expect((await replayElsewhere(v.schedule, ["--kernel", "mainline"])).code).toBe(1);
    const wrong = await replayElsewhere(v.schedule, ["--kernel", "6.1"]);
    expect(wrong.code).toBe(2);
    oneLine(wrong.stderr);
    expect(wrong.stderr).toMatch(/bad --kernel "6\.1": this schedule was explored under kernel mainline/);
  });

  it("a truncated, over-long or corrupt schedule is refused with one line naming the position (exit 2)", async () => {
    const v = await findViolation(["--scenario", "seed-2008", "--policy", "naive", "--cpus", "3"], REPO);
    const s = v.schedule;
    const choicesAt = s.indexOf("choices=") + "choices=".length;
    const cases: [string, RegExp][] = [
      [
        s.slice(0, 20),
        /bad schedule at character 21: truncated: the schedule ends without its "policy" field/,
      ],
      [
        s.slice(0, 28),
        /bad schedule at character 25: truncated: the schedule ends inside a field \("poli"\)/,
      ],
      [
        s.slice(0, choicesAt + 3),
        /bad schedule at character \d+: truncated: the schedule ends inside its choices \(2 of the \d+ declared\)/,
      ],
      [`${s},n=1`, /bad schedule at character \d+: over-long: field "n" after the checksum/],
      [
        s.replace(/,choices=(\w+)/, ",choices=$1.0"),
        /bad schedule at character \d+: over-long: choice \d+ is beyond the \d+ choices/,
      ],
      [
        s.replace(/,choices=(\w+)/, ",choices=$1!"),
        /bad schedule at character \d+: choice 1 "\w+!" is not a base-36 number/,
      ],
      [
        s.replace(/choices=0/, "choices=1"),
        new RegExp(`bad schedule at character ${s.indexOf(",sum=") + 6}: corrupt: the checksum`),
      ],
      [s.replace(/cpus=3/, "cpus=4"), /corrupt: the checksum/],
      ["seed-2008/naive/generic/2/1/1/0.0", /bad schedule at character 1: this is an old-style schedule/],
      ["garbage", /bad schedule at character 1: expected a string starting "smp2,"/],
    ];
    for (const [bad, msg] of cases) {
      const r = await cli(["replay", "--schedule", bad]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(msg);
      oneLine(r.stderr);
      expect(r.stdout).toBe("");
    }
  });

  it("a schedule re-sealed with fields explore never writes (CPUs out of range, no calls, no steps) is refused, not a crash", async () => {
    const v = await findViolation(["--scenario", "seed-2008", "--policy", "naive", "--cpus", "3"], REPO);
    const { choiceOffsets: _o, choicesEnd: _e, ...spec } = decodeSchedule(v.schedule);
    const cases: [Partial<ScheduleSpec>, RegExp][] = [
      [{ cpus: 1 }, /bad schedule at character \d+: field "cpus" is "1", expected an integer 2..8192/],
      [{ cpus: 0 }, /field "cpus" is "0", expected an integer 2..8192/],
      [{ calls: 0 }, /field "calls" is "0", expected an integer 1..1000000/],
      [{ maxSteps: 0 }, /field "max-steps" is "0", expected an integer 1..1000000000/],
      [{ cpus: 9 }, /the schedule is for 9 CPUs, but scenario seed-2008 runs on 2..8 CPUs/],
      [
        { scenario: "seed-2008-mask", cpus: 2 },
        /the schedule is for 2 CPUs, but scenario seed-2008-mask runs on 3..8 CPUs/,
      ],
    ];
    for (const [change, msg] of cases) {
      const r = await cli(["replay", "--schedule", encodeSchedule({ ...spec, ...change })]);
      expect({ change, code: r.code }).toEqual({ change, code: 2 });
      expect(r.stderr).toMatch(msg);
      oneLine(r.stderr);
      expect(r.stdout).toBe("");
    }
  });

  it("a schedule with policy=all (which explore takes, but no schedule holds) is refused naming only the policies", async () => {
    const v = await findViolation(["--scenario", "seed-2008", "--policy", "naive", "--cpus", "3"], REPO);
    const { choiceOffsets: _o, choicesEnd: _e, ...spec } = decodeSchedule(v.schedule);
    for (const policy of ["all", "bogus"]) {
      const r = await cli(["replay", "--schedule", encodeSchedule({ ...spec, policy })]);
      expect({ policy, code: r.code }).toEqual({ policy, code: 2 });
      expect(r.stderr).toBe(
        `smpcall: bad policy field of the schedule "${policy}": choose one of naive, global-lock, target-mask, percpu-counters, mask-on-alloc-failure, poll-own-queue, modern\n`,
      );
      expect(r.stdout).toBe("");
    }
  });
});
