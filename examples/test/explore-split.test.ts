import { describe, expect, it } from "@jest/globals";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { main } from "../src/cli/main";
import { memoryIo } from "../src/cli/io";
import { STATE_KEY_CAVEAT } from "../src/cli/commands/explore";

async function cli(args: string[], cwd: string) {
  const io = memoryIo({}, cwd);
  const code = await main(args, io);
  return { code, out: io.stdout, err: io.stderr };
}

const SEARCH = ["explore", "--scenario", "seed-2008", "--policy", "global-lock", "--cpus", "2"];

describe("explore --shard and explore merge", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "smpcall-shards-"));

  it("merges the shards of a search into one complete verdict", async () => {
    for (const i of [0, 1]) {
      const r = await cli([...SEARCH, "--shard", `${i}/2`, "--out", `s${i}.json`], dir);
      expect(r.code).toBe(0);
      expect(r.out).toContain(`explore shard ${i}/2`);
    }
    const m = await cli(["explore", "merge", "s0.json", "s1.json"], dir);
    expect(m.code).toBe(0);
    // The generic backend keeps no state the key leaves out: a complete search is a proof.
    expect(m.out).toContain("search complete over hashed states (equal keys, equal futures");
    expect(m.out).toContain("no violation found: none exists within the bounds");
  });

  it("prints true distinct-state counts: each shard's own (its subtrees' roots included), bounds for the merge", async () => {
    const single = await cli(SEARCH, dir);
    expect(single.out).toContain(", 31 distinct states,");
    for (const i of [0, 1]) {
      const r = await cli([...SEARCH, "--shard", `${i}/2`, "--out", `c${i}.json`], dir);
      expect(r.out).toContain("121 schedule(s), 31 distinct states,");
    }
    const m = await cli(["explore", "merge", "c0.json", "c1.json"], dir);
    expect(m.out).toContain(
      "  242 schedule(s), 31 to 62 distinct states (shards keep their own states: at least the most one shard met, at most their sum, which counts a state met by k shards k times),",
    );
    await cli([...SEARCH, "--shard", "0/1", "--out", "c.json"], dir);
    expect((await cli(["explore", "merge", "c.json"], dir)).out).toContain(
      "  242 schedule(s), 31 distinct states,",
    );
  });

  it("explore merge --json prints one JSON object, wherever --json stands on the line", async () => {
    for (const i of [0, 1]) await cli([...SEARCH, "--shard", `${i}/2`, "--out", `j${i}.json`], dir);
    for (const args of [
      ["explore", "merge", "--json", "j0.json", "j1.json"],
      ["explore", "merge", "j0.json", "j1.json", "--json"],
      ["explore", "--json", "merge", "j0.json", "j1.json"],
    ]) {
      const m = await cli(args, dir);
      expect(m.code).toBe(0);
      const j = JSON.parse(m.out) as { complete: boolean; violation: unknown; shards: number };
      expect({ complete: j.complete, violation: j.violation, shards: j.shards }).toEqual({
        complete: true,
        violation: null,
        shards: 2,
      });
      // The merged search says what its key leaves out and the caveat the text line says.
      expect(j).toMatchObject({ stateKeyLeavesOut: null, stateKeyCaveat: STATE_KEY_CAVEAT });
    }
    const w = spawnSync(
      process.execPath,
      [path.resolve(__dirname, "../bin/smpcall.js"), ...SEARCH, "--workers", "2", "--json"],
      { cwd: dir, encoding: "utf8", timeout: 60_000 },
    );
    expect(w.status).toBe(0);
    expect(JSON.parse(w.stdout)).toMatchObject({
      complete: true,
      stateKeyLeavesOut: null,
      stateKeyCaveat: STATE_KEY_CAVEAT,
    });
  }, 60_000);

  it("exits 1 when a shard found a violation, with its schedule", async () => {
    const naive = [...SEARCH.slice(0, 4), "naive", "--cpus", "2"];
    for (const i of [0, 1]) await cli([...naive, "--shard", `${i}/2`, "--out", `n${i}.json`], dir);
    const m = await cli(["explore", "merge", "n0.json", "n1.json"], dir);
    expect(m.code).toBe(1);
    expect(m.out).toContain("VIOLATION (deadlock)");
    expect(m.out).toContain("replay:   npx smpcall replay --schedule smp2,");
  });

  it("refuses corrupt, missing, duplicated and mismatched shard files (exit 2)", async () => {
    fs.writeFileSync(
      path.join(dir, "cut.json"),
      fs.readFileSync(path.join(dir, "s1.json"), "utf8").slice(0, 40),
    );
    const cases: [string[], RegExp][] = [
      [["s0.json", "cut.json"], /cut.json is not JSON/],
      [["s0.json"], /shard\(s\) 1\/2 missing/],
      [["s0.json", "s0.json"], /given twice/],
      [["s0.json", "n1.json"], /another search/],
      [["nothere.json"], /could not be read/],
    ];
    for (const [files, msg] of cases) {
      const m = await cli(["explore", "merge", ...files], dir);
      expect(m.code).toBe(2);
      expect(m.err).toMatch(msg);
    }
  });

  it("refuses a shard file at odds with itself instead of printing a verdict from it (exit 2)", async () => {
    const read = (f: string) =>
      JSON.parse(fs.readFileSync(path.join(dir, f), "utf8")) as Record<string, unknown> & {
        violation: Record<string, unknown> | null;
      };
    const write = (f: string, x: unknown) => fs.writeFileSync(path.join(dir, f), JSON.stringify(x));
    const [s1, n0] = [read("s1.json"), read("n0.json")];
    write("no-message.json", { ...n0, violation: { ...n0.violation, message: undefined } });
    write("no-subtree.json", { ...n0, violation: { ...n0.violation, subtree: undefined } });
    write("other-subtree.json", { ...n0, violation: { ...n0.violation, subtree: 1 } });
    write("bad-schedule.json", { ...n0, violation: { ...n0.violation, schedule: "garbage" } });
    write("complete-lie.json", { ...s1, subtreesDone: 0, schedules: 0 });
    write("complete-violation.json", { ...s1, violation: { ...n0.violation, subtree: 1 } });
    write("foreign-violation.json", { ...s1, complete: false, violation: { ...n0.violation, subtree: 1 } });
    write("bad-run.json", { ...s1, run: "hello" });
    // A proof from nothing: no subtrees, or subtrees searched without a schedule or a state.
    write("no-subtrees.json", { ...s1, shard: 0, shards: 1, subtrees: 0, subtreesDone: 0, schedules: 0 });
    write("no-schedules.json", { ...s1, schedules: 0 });
    write("no-states.json", { ...s1, distinctStates: 0 });
    const cases: [string[], RegExp][] = [
      [["no-message.json", "n1.json"], /no-message.json: field violation has no kind or message/],
      [["no-subtree.json", "n1.json"], /violation subtree undefined is not one of shard 0\/2's subtrees/],
      [["other-subtree.json", "n1.json"], /violation subtree 1 is not one of shard 0\/2's subtrees/],
      [
        ["bad-schedule.json", "n1.json"],
        /the violation's schedule is not valid: bad schedule at character 1/,
      ],
      [
        ["s0.json", "complete-lie.json"],
        /it says complete, but searched 0 of the \d+ subtree\(s\) of its share/,
      ],
      [["s0.json", "complete-violation.json"], /it says complete, but has a violation/],
      [["s0.json", "foreign-violation.json"], /the violation's schedule is of another search/],
      [["bad-run.json"], /field run is not the schedule string of a search/],
      [["no-subtrees.json"], /subtrees is 0: every search is cut into at least one subtree/],
      [["s0.json", "no-schedules.json"], /it searched \d+ subtree\(s\) to the end with 0 schedule\(s\)/],
      [
        ["s0.json", "no-states.json"],
        /it searched \d+ subtree\(s\) to the end with \d+ schedule\(s\) and 0 distinct/,
      ],
    ];
    for (const [files, msg] of cases) {
      const m = await cli(["explore", "merge", ...files], dir);
      expect({ files, code: m.code, out: m.out }).toEqual({ files, code: 2, out: "" });
      expect(m.err).toMatch(msg);
      expect(m.err.trimEnd().split("\n")).toHaveLength(1);
    }
  });

  it("--out and --max-states without the flag they go with are refused, not ignored; a worker's usage error reads as the main thread's", async () => {
    const cases: [string[], string][] = [
      [["--out", "o.json"], "smpcall: --out goes with --shard i/n (a shard's result for explore merge)\n"],
      [["--max-states", "5"], "smpcall: --max-states goes with --workers N\n"],
      [
        ["--shard", "0/2", "--out", "o.json", "--max-states", "5"],
        "smpcall: --max-states goes with --workers N (a shard keeps its own table)\n",
      ],
    ];
    for (const [extra, err] of cases) {
      const r = await cli([...SEARCH, ...extra], dir);
      expect({ extra, code: r.code, out: r.out, err: r.err }).toEqual({ extra, code: 2, out: "", err });
    }
    expect(fs.existsSync(path.join(dir, "o.json"))).toBe(false);
    // A usage error in a worker thread (the built CLI's) reads as in the main thread.
    const full = spawnSync(
      process.execPath,
      [path.resolve(__dirname, "../bin/smpcall.js"), ...SEARCH, "--workers", "2", "--max-states", "1"],
      { cwd: dir, encoding: "utf8", timeout: 60_000 },
    );
    expect(full.status).toBe(2);
    expect(full.stderr).toMatch(/^smpcall: state table full: .*; give --workers a larger --max-states\n$/);
  }, 60_000);
  it("--workers writes --save-schedule and --html as a plain explore does; --shard refuses them (its --out file holds the schedule)", async () => {
    const NAIVE = ["explore", "--scenario", "seed-2008", "--policy", "naive"];
    const plain = await cli([...NAIVE, "--save-schedule", "plain.json"], dir);
    expect(plain.code).toBe(1);
    const w = spawnSync(
      process.execPath,
      [
        path.resolve(__dirname, "../bin/smpcall.js"),
        ...NAIVE,
        "--workers",
        "2",
        "--save-schedule",
        "w.json",
        "--html",
        "w.html",
      ],
      { cwd: dir, encoding: "utf8", timeout: 60_000 },
    );
    expect({ status: w.status, stderr: w.stderr }).toEqual({ status: 1, stderr: "" });
    const saved = JSON.parse(fs.readFileSync(path.join(dir, "w.json"), "utf8"));
    expect(saved).toEqual(JSON.parse(fs.readFileSync(path.join(dir, "plain.json"), "utf8")));
    expect(saved.kind).toBe("deadlock");
    expect(fs.readFileSync(path.join(dir, "w.html"), "utf8")).toContain(saved.schedule);
    for (const flag of ["--save-schedule", "--html"]) {
      const r = await cli([...NAIVE, "--shard", "0/2", "--out", "sh.json", flag, "sh-extra"], dir);
      expect({ flag, code: r.code, out: r.out }).toEqual({ flag, code: 2, out: "" });
      expect(r.err).toBe(
        `smpcall: ${flag} does not go with --shard: the shard's --out file holds its violation's schedule; replay it with smpcall replay --schedule-file FILE (--html FILE for its timeline), or merge the shards first\n`,
      );
    }
    expect(fs.existsSync(path.join(dir, "sh.json"))).toBe(false);
    expect(fs.existsSync(path.join(dir, "sh-extra"))).toBe(false);
  }, 60_000);
});

describe("explore --fault-bound (injected backend faults under dfs)", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "smpcall-faults-"));
  const BIN = path.resolve(__dirname, "../bin/smpcall.js");
  const SPARC = ["explore", "--scenario", "seed-2008", "--policy", "modern", "--arch", "sparc"];
  const WOULD_BLOCK = [...SPARC, "--arch-opt", "wouldBlockRate=0.5"];
  // retryLimit 1: three would-blocks in a row without progress are a mondo timeout (a panic).
  const TIMEOUT = [...WOULD_BLOCK, "--arch-opt", "retryLimit=1"];

  it("the would-block search ends with a verdict that says its bound (unbounded it reported an endless run of faults as a livelock)", async () => {
    const r = await cli([...WOULD_BLOCK, "--max-steps", "500"], dir);
    expect(r.code).toBe(0);
    expect(r.out).toContain(
      "explore seed-2008 / policy modern / 2 CPUs x 1 call(s) / dfs, preemption bound 2, fault bound 3\n",
    );
    expect(r.out).toContain(", search complete over hashed states");
    expect(r.out).toContain("no violation found");
    const none = await cli(
      [...WOULD_BLOCK, "--max-steps", "500", "--fault-bound", "none", "--runs", "600"],
      dir,
    );
    expect(none.code).toBe(1);
    expect(none.out).toContain("/ dfs, preemption bound 2\n"); // no fault bound said
    expect(none.out).toMatch(/VIOLATION \(livelock\) on schedule \d+ \(\d{3,} injected fault\(s\)\):/);
    for (const bad of ["-1", "x", "1001"]) {
      const b = await cli([...WOULD_BLOCK, "--fault-bound", bad], dir);
      expect({ bad, code: b.code, err: b.err }).toEqual({
        bad,
        code: 2,
        err: `smpcall: bad --fault-bound "${bad}": expected an integer 0..1000, or none\n`,
      });
    }
  });

  it("a panic that needs three faults: found within the bound, the schedule carries it and replays to its end; same verdict for 1 or 2 workers and for merged shards", async () => {
    const r = await cli(TIMEOUT, dir);
    expect(r.code).toBe(1);
    expect(r.out).toContain(
      "VIOLATION (panic) on schedule 20 (3 injected fault(s) of the 3 the fault bound allows):",
    );
    const schedule = /schedule: (\S+)/.exec(r.out)![1];
    expect(schedule).toContain(",seed=1,fault-bound=3,end=panic.");
    const again = await cli(["replay", "--schedule", schedule], dir);
    expect(again.code).toBe(1);
    expect(again.out).toMatch(/: panic at \d+ ns\n {2}VIOLATION \(panic\):/);
    // Under a bound of 2 that panic is out of reach: the search says so in its header.
    const two = await cli([...TIMEOUT, "--fault-bound", "2"], dir);
    expect(two.code).toBe(0);
    expect(two.out).toContain("/ dfs, preemption bound 2, fault bound 2\n");
    for (const n of ["1", "2"]) {
      const w = spawnSync(process.execPath, [BIN, ...TIMEOUT, "--workers", n], {
        cwd: dir,
        encoding: "utf8",
        timeout: 120_000,
      });
      expect({ n, status: w.status, stderr: w.stderr }).toEqual({ n, status: 1, stderr: "" });
      expect(w.stdout).toContain(`, fault bound 3 / ${n} worker(s)\n`);
      expect(/schedule: (\S+)/.exec(w.stdout)![1]).toBe(schedule);
    }
    for (const i of [0, 1]) await cli([...TIMEOUT, "--shard", `${i}/2`, "--out", `f${i}.json`], dir);
    const shard = JSON.parse(fs.readFileSync(path.join(dir, "f0.json"), "utf8")) as Record<string, unknown>;
    expect([shard.version, shard.faultBound]).toEqual([3, 3]);
    const m = await cli(["explore", "merge", "f0.json", "f1.json"], dir);
    expect(m.code).toBe(1);
    expect(m.out).toContain("/ dfs, preemption bound 2, fault bound 3 / 2 shard(s)");
    expect(/schedule: (\S+)/.exec(m.out)![1]).toBe(schedule);
    // Shards of searches under other fault bounds are not one search; a version 2 file predates the bound.
    await cli([...TIMEOUT, "--fault-bound", "2", "--shard", "1/2", "--out", "g1.json"], dir);
    const mixed = await cli(["explore", "merge", "f0.json", "g1.json"], dir);
    expect(mixed.code).toBe(2);
    expect(mixed.err).toMatch(/g1.json is of another search than f0.json: faultBound 2 vs 3/);
    fs.writeFileSync(path.join(dir, "v2.json"), JSON.stringify({ ...shard, version: 2 }));
    const old = await cli(["explore", "merge", "v2.json", "f1.json"], dir);
    expect(old.code).toBe(2);
    expect(old.err).toMatch(
      /version 2 is not 3: written by another smpcall version \(before the fault bound: its search had none\)/,
    );
  }, 240_000);
});
