import { describe, expect, it } from "@jest/globals";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { main } from "../src/cli/main";
import { memoryIo } from "../src/cli/io";
import { STATE_KEY_CAVEAT } from "../src/cli/commands/explore";
import { descriptor as generic } from "@smpcall/arch-generic";
import { runWorkload, toChromeTrace, toFtraceText, TraceSink } from "@smpcall/core";

async function cli(args: string[], env: NodeJS.ProcessEnv = {}) {
  const io = memoryIo(env);
  const code = await main(args, io);
  return { code, stdout: io.stdout, stderr: io.stderr };
}

const BIN = path.resolve(__dirname, "../bin/smpcall.js");

describe("smpcall CLI", () => {
  it("--help lists the commands and every command has --help", async () => {
    const top = await cli(["--help"]);
    expect(top.code).toBe(0);
    for (const c of ["archs", "run", "bench"]) expect(top.stdout).toContain(c);
    for (const c of ["archs", "run", "bench"]) {
      const r = await cli([c, "--help"]);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`Usage: smpcall ${c}`);
    }
    expect((await cli(["run", "--help"])).stdout).toMatch(/single-storm +every CPU sends async/);
  });

  it.each([
    [["--cpus", "0"], /bad --cpus "0": expected an integer 2\.\.8192/],
    [["--cpus", "-3"], /bad --cpus "-3"/],
    [["--cpus", "abc"], /bad --cpus "abc"/],
    [["--cpus", "100000"], /bad --cpus "100000": expected an integer 2\.\.8192/],
    [
      ["--workload", "nope"],
      /argument 'nope' is invalid\. Allowed choices are mixed, broadcast, single-storm, tlb-shootdown/,
    ],
    [["--arch", "nope"], /unknown arch "nope" \(no package @smpcall\/arch-nope\); available: .*generic/],
    [["--arch", "./does-not-exist.js"], /arch module \.\/does-not-exist\.js not found/],
    [["--arch", "./package.json"], /does not export a backend/],
    [["--ops", "0"], /bad --ops "0"/],
    [["--seed", "x"], /bad --seed "x"/],
    [
      ["--arch-opt", "latencyNs=fast"],
      /bad value "fast" for option latencyNs of arch generic: expected integer 0\.\.1000000/,
    ],
    [
      ["--arch-opt", "nosuch=1"],
      /unknown option "nosuch" for arch generic; its options are: latencyNs, sendCostNs/,
    ],
  ])("bad input %j exits 2 with one clear line on stderr", async (args, message) => {
    const r = await cli(["run", ...args]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trimEnd().split("\n")).toHaveLength(1);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.stdout).toBe("");
  });

  it("run prints a readable report with the counts, latency, per-CPU table and warnings", async () => {
    const r = await cli(["run", "--cpus", "8", "--workload", "mixed", "--ops", "200"]);
    expect(r.code).toBe(0);
    for (const s of [
      "calls issued",
      "callbacks run",
      "IPIs requested",
      "hardware signals",
      "IPIs saved",
      "p50",
      "p99",
      "Per CPU",
      "Warnings",
      "Problems (0)",
    ])
      expect(r.stdout).toContain(s);
  });

  it("run --json prints one JSON object; the same seed gives byte-identical output, another seed differs", async () => {
    const a = await cli(["run", "--cpus", "16", "--workload", "single-storm", "--seed", "5", "--json"]);
    const b = await cli(["run", "--cpus", "16", "--workload", "single-storm", "--seed", "5", "--json"]);
    const c = await cli(["run", "--cpus", "16", "--workload", "single-storm", "--seed", "6", "--json"]);
    expect(a.code).toBe(0);
    expect(a.stdout).toBe(b.stdout);
    expect(a.stdout).not.toBe(c.stdout);
    const report = JSON.parse(a.stdout);
    expect(report.config).toMatchObject({ cpus: 16, workload: "single-storm", seed: 5, arch: "generic" });
    expect(report.counts.callbacksRun).toBe(report.config.ops);
    expect(report.perCpu).toHaveLength(16);
  });

  it("--ops sets the number of cross-call operations", async () => {
    const r = JSON.parse(
      (await cli(["run", "--cpus", "4", "--workload", "broadcast", "--ops", "7", "--json"])).stdout,
    );
    expect(r.counts.callsIssued).toBe(7);
    expect(r.counts.callbacksRun).toBe(7 * 3);
  });

  it("tlb-shootdown uses on_each_cpu_cond_mask: the flusher runs it locally and lazy CPUs are skipped", async () => {
    const r = JSON.parse(
      (await cli(["run", "--cpus", "32", "--workload", "tlb-shootdown", "--ops", "64", "--json"])).stdout,
    );
    expect(r.counts.callsIssued).toBe(64);
    expect(r.counts.callbacksLocal).toBe(64);
    expect(r.problems).toEqual([]);
  });

  it("--kernel picks the profile the report names; a profile that does not exist is a usage error", async () => {
    const r = JSON.parse((await cli(["run", "--cpus", "4", "--kernel", "mainline", "--json"])).stdout);
    expect(r.config.kernel).toBe("mainline");
    const text = (await cli(["run", "--cpus", "4", "--ops", "4"])).stdout;
    expect(text).toContain("kernel 6.1,");
    const bad = await cli(["run", "--kernel", "5.10"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/5\.10.*6\.1.*mainline/);
    for (const cmd of ["explore", "replay", "conform"])
      expect((await cli([cmd, "--help"])).stdout).toContain("--kernel <profile>");
  });

  it("the backend comes from --arch, else $SMPCALL_ARCH, else generic", async () => {
    const viaEnv = await cli(["run", "--ops", "10"], { SMPCALL_ARCH: "nope" });
    expect(viaEnv.code).toBe(2);
    expect(viaEnv.stderr).toMatch(/unknown arch "nope"/);
    const flagWins = await cli(["run", "--arch", "generic", "--ops", "10", "--json"], {
      SMPCALL_ARCH: "nope",
    });
    expect(flagWins.code).toBe(0);
    expect(JSON.parse(flagWins.stdout).config.arch).toBe("generic");
  });

  it("a module path loads an out-of-tree backend", async () => {
    const built = path.resolve(__dirname, "../../arch-generic/dist/index.js");
    const r = await cli(["run", "--arch", built, "--ops", "20", "--json"]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).config.arch).toBe("generic");
  });

  it("--trace writes ftrace text or Chrome JSON", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "smpcall-"));
    const txt = path.join(dir, "t.txt");
    const json = path.join(dir, "t.json");
    expect((await cli(["run", "--ops", "20", "--kernel", "mainline", "--trace", txt])).code).toBe(0);
    expect(fs.readFileSync(txt, "utf8")).toMatch(/^# tracer: nop\n[\s\S]*csd_function_entry: func=/);
    expect((await cli(["run", "--ops", "20", "--trace", json])).code).toBe(0);
    expect(JSON.parse(fs.readFileSync(json, "utf8")).traceEvents.length).toBeGreaterThan(10);
    const bad = await cli(["run", "--ops", "20", "--trace-format", "chrome"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--trace-format needs --trace FILE/);
  });

  it("under a kernel profile the ftrace file holds only what that kernel emits on the arch (6.1 x86: irq_vectors only)", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "smpcall-"));
    const txt = path.join(dir, "x86.txt");
    const args = ["run", "--arch", "x86", "--cpus", "4", "--workload", "broadcast", "--ops", "4"];
    expect((await cli([...args, "--trace", txt])).code).toBe(0);
    const v61 = fs.readFileSync(txt, "utf8");
    expect(v61).toMatch(/^# smpcall: 4 CPUs, arch x86, seed 1, kernel 6\.1$/m);
    const events = (text: string) => new Set([...text.matchAll(/^ .*?: ([a-z_]+): /gm)].map((m) => m[1]));
    for (const e of events(v61))
      expect(e).toMatch(
        /^(call_function(_single)?_(entry|exit)|reschedule_(entry|exit)|sched_wake_idle_without_ipi)$/,
      );
    expect(v61).toMatch(/: call_function_entry: vector=252$/m);
    expect((await cli([...args, "--kernel", "mainline", "--trace", txt])).code).toBe(0);
    const main = fs.readFileSync(txt, "utf8");
    const mainEvents = events(main);
    for (const e of [
      ...events(v61),
      "csd_queue_cpu",
      "csd_function_entry",
      "csd_function_exit",
      "ipi_send_cpumask",
    ])
      expect(mainEvents.has(e)).toBe(true);
    expect(main).toMatch(
      /: ipi_send_cpumask: cpumask=00000000,0000000[0-9a-f] callsite=smp_call_function callback=generic_smp_call_function_single_interrupt$/m,
    );
    expect(main).not.toMatch(/: ipi_(raise|entry|exit): /);
  });

  it("--trace streams the run's records: the file equals the export of the same run kept in memory", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "smpcall-"));
    const txt = path.join(dir, "t.txt");
    const json = path.join(dir, "t.json");
    const args = ["run", "--cpus", "8", "--workload", "mixed", "--ops", "40", "--seed", "9"];
    expect((await cli([...args, "--trace", txt])).code).toBe(0);
    const r = await cli([...args, "--trace", json]);
    expect(r.code).toBe(0);
    const trace = new TraceSink(true);
    const { report, outcome } = runWorkload({
      cpus: 8,
      seed: 9,
      arch: generic,
      workload: "mixed",
      ops: 40,
      trace,
    });
    const meta = { cpus: 8, arch: "generic", seed: 9, kernel: "6.1" };
    expect(fs.readFileSync(txt, "utf8")).toBe(toFtraceText(trace.records, meta));
    expect(fs.readFileSync(json, "utf8")).toBe(
      JSON.stringify(toChromeTrace(trace.records, { ...meta, report, deadlock: outcome.deadlock })),
    );
    expect(r.stdout).toContain(`trace: ${trace.records.length} records written to ${json} (chrome)\n`);
    expect(fs.readdirSync(dir).sort()).toEqual(["t.json", "t.txt"]);
  });

  it("--trace-limit N keeps the last N records, as the kernel's ring buffer, and says how many were written", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "smpcall-"));
    const full = path.join(dir, "full.txt");
    const txt = path.join(dir, "last.txt");
    const json = path.join(dir, "last.json");
    const args = ["run", "--cpus", "8", "--workload", "broadcast", "--ops", "30"];
    expect((await cli([...args, "--trace", full])).code).toBe(0);
    const lines = fs
      .readFileSync(full, "utf8")
      .split("\n")
      .filter((l) => l !== "" && !l.startsWith("#"));
    const r = await cli([...args, "--trace", txt, "--trace-limit", "50"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      new RegExp(
        `trace: 50 records written to ${txt.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} \\(ftrace\\); \\d+ events left out that kernel 6\\.1 has no tracepoint for on generic \\(--trace-format chrome keeps every event\\), ${lines.length - 50} older records overwritten \\(--trace-limit 50 keeps the last 50\\)`,
      ),
    );
    const text = fs.readFileSync(txt, "utf8");
    expect(text).toContain(`# entries-in-buffer/entries-written: 50/${lines.length}   #P:8\n`);
    expect(text.split("\n").filter((l) => l !== "" && !l.startsWith("#"))).toEqual(lines.slice(-50));
    expect((await cli([...args, "--trace", json, "--trace-limit", "50"])).code).toBe(0);
    // The Chrome trace keeps smpcall's own events too (the ftrace file only what kernel 6.1 has).
    const meta = JSON.parse(fs.readFileSync(json, "utf8")).metadata.trace;
    expect(meta).toMatchObject({ limit: 50, entriesInBuffer: 50 });
    expect(meta.entriesWritten).toBeGreaterThan(lines.length);
    const bad = await cli([...args, "--trace", json, "--trace-limit", "0"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/bad --trace-limit "0": expected an integer 1\.\.100000000/);
  });

  it("--html beside a limited ftrace file changes neither the file nor its counts", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "smpcall-"));
    const plain = path.join(dir, "plain.txt");
    const withHtml = path.join(dir, "with-html.txt");
    const html = path.join(dir, "r.html");
    const args = ["run", "--cpus", "16", "--ops", "60", "--trace-limit", "10", "--json"];
    const a = await cli([...args, "--trace", plain]);
    // The HTML timeline wants every event, the ftrace ring buffer only the kernel's: one buffer
    // for both kept 4 ftrace records of the last 10 events and said 4/886 written, 882 dropped.
    const b = await cli([...args, "--trace", withHtml, "--html", html]);
    expect([a.code, b.code]).toEqual([0, 0]);
    expect(fs.readFileSync(withHtml, "utf8")).toBe(fs.readFileSync(plain, "utf8"));
    expect(fs.readFileSync(plain, "utf8")).toContain("# entries-in-buffer/entries-written: 10/212   #P:16\n");
    expect(JSON.parse(b.stdout).trace).toEqual({ file: withHtml, dropped: 202 });
    expect(JSON.parse(a.stdout).trace).toEqual({ file: plain, dropped: 202 });
  });

  it("--html with --trace-limit says the timeline holds only the last N events (and nothing when it is whole)", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "smpcall-"));
    const html = path.join(dir, "r.html");
    const args = ["run", "--cpus", "16", "--ops", "60", "--html", html];
    // The run's events, counted by a whole Chrome trace of the same run.
    const whole = await cli([...args, "--trace", path.join(dir, "all.json")]);
    const events = Number(/trace: (\d+) records written to \S+ \(chrome\)\n/.exec(whole.stdout)![1]);
    expect(whole.stdout).toContain(`html: report written to ${html}\n`);
    const limited = await cli([...args, "--trace-limit", "10"]);
    expect(limited.code).toBe(0);
    expect(limited.stdout).toContain(
      `html: report written to ${html} (its timeline holds the last 10 events: ${events - 10} older ones overwritten by --trace-limit 10)\n`,
    );
  });

  it("the trace line counts the records the file holds: an ftrace file under 6.1 says how many events it left out (all of them on sparc)", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "smpcall-"));
    const args = ["run", "--arch", "sparc", "--cpus", "8", "--workload", "broadcast", "--ops", "2"];
    const json = path.join(dir, "all.json");
    const all = await cli([...args, "--trace", json]);
    const events = Number(/trace: (\d+) records written to \S+ \(chrome\)\n/.exec(all.stdout)![1]);
    expect(events).toBeGreaterThan(50);
    for (const limit of [[], ["--trace-limit", "5"]]) {
      const txt = path.join(dir, `t${limit.length}.txt`);
      const r = await cli([...args, ...limit, "--trace", txt]);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(
        `trace: 0 records written to ${txt} (ftrace); ${events} events left out that kernel 6.1 has no tracepoint for on sparc (--trace-format chrome keeps every event)\n`,
      );
      expect(fs.readFileSync(txt, "utf8")).toContain("# entries-in-buffer/entries-written: 0/0   #P:8\n");
    }
  });

  it("a run that finds a problem exits 1", async () => {
    const r = await cli(["run", "--ops", "50", "--max-events", "20"]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/step-limit/);
  });

  it("archs lists the generic backend with its options, as text and JSON", async () => {
    const text = await cli(["archs"]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/generic \(default\)[\s\S]*latencyNs = integer 0\.\.1000000/);
    const json = JSON.parse((await cli(["archs", "--json"])).stdout);
    expect(json.default).toBe("generic");
    expect(json.archs.map((a: { name: string }) => a.name)).toContain("generic");
  });

  it("the installed binary maps bad input to exit 2 without a stack, and runs the default job", () => {
    const bad = spawnSync(process.execPath, [BIN, "run", "--cpus", "abc"], { encoding: "utf8" });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toBe('smpcall: bad --cpus "abc": expected an integer 2..8192\n');
    const ok = spawnSync(process.execPath, [BIN, "run", "--ops", "30"], {
      encoding: "utf8",
      env: { ...process.env, SMPCALL_ARCH: "" },
    });
    expect(ok.status).toBe(0);
    expect(ok.stdout).toMatch(/arch generic/);
  });

  it("a reader that goes away early (smpcall archs | true) ends it quietly, exit 0", () => {
    const r = spawnSync(
      "bash",
      ["-c", `"${process.execPath}" "${BIN}" archs | true; echo "exit \${PIPESTATUS[0]}"`],
      { encoding: "utf8" },
    );
    expect(r.stdout.trim()).toBe("exit 0");
    expect(r.stderr).not.toMatch(/EPIPE|Error/);
  });
});

describe("smpcall explore / replay", () => {
  it("explore finds the naive deadlock (exit 1) and prints a schedule that replay reproduces, with a Perfetto trace", async () => {
    const e = await cli(["explore", "--scenario", "seed-2008", "--policy", "naive", "--json"]);
    expect(e.code).toBe(1);
    const found = JSON.parse(e.stdout);
    expect(found.violation.kind).toBe("deadlock");
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "smpcall-"));
    const trace = path.join(dir, "ce.json");
    const r = await cli(["replay", "--schedule", found.violation.schedule, "--trace", trace]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/wait-for cycle: CPU 0 -> CPU 1 -> CPU 0/);
    expect(JSON.parse(fs.readFileSync(trace, "utf8")).traceEvents.length).toBeGreaterThan(5);
  });

  it("explore exits 0 with a complete search when there is no violation; --policy all prints the table", async () => {
    const ok = await cli(["explore", "--scenario", "seed-2008", "--policy", "poll-own-queue"]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(
      /search complete over hashed states \(equal keys, equal futures, up to where waits fell between a program's steps: docs\/explorer.md\)/,
    );
    expect(ok.stdout).toContain("no violation found: none exists within the bounds");
    // A backend with state of its own, which the key leaves out: no proof claimed.
    const x86Args = ["explore", "--scenario", "seed-2008", "--policy", "poll-own-queue", "--arch", "x86"];
    const x86 = await cli(x86Args);
    expect(x86.code).toBe(0);
    expect(x86.stdout).toContain("the state key leaves out the x86 backend's own state: not a proof");
    expect(x86.stdout).toContain("no violation found: none in the states the hashed search met");
    // The table and --json say it too (they said "none: complete (hashed)" and "complete": true
    // with nothing on what the key leaves out).
    const x86All = await cli(["explore", "--scenario", "seed-2008", "--policy", "all", "--arch", "x86"]);
    expect(x86All.stdout).toMatch(/modern +none found +none: complete \(hashed\)/);
    expect(x86All.stdout).toContain(
      "none: complete (hashed): no violation in the states the hashed search met; the state key leaves out the x86 backend's own state: not a proof",
    );
    const x86Json = await cli([...x86Args, "--json"]);
    expect(JSON.parse(x86Json.stdout)).toMatchObject({
      complete: true,
      violation: null,
      stateKeyLeavesOut: "the x86 backend's own state",
      stateKeyCaveat: STATE_KEY_CAVEAT,
    });
    const genericJson = await cli([
      "explore",
      "--scenario",
      "seed-2008",
      "--policy",
      "poll-own-queue",
      "--json",
    ]);
    // Nothing left out, but --json says the caveat the text line says (it said only
    // stateKeyLeavesOut: null, a stronger claim than the line's).
    expect(JSON.parse(genericJson.stdout)).toMatchObject({
      complete: true,
      stateKeyLeavesOut: null,
      stateKeyCaveat: STATE_KEY_CAVEAT,
    });
    expect(STATE_KEY_CAVEAT).toMatch(/^where waits fell between a program's steps: /);
    expect(ok.stdout).toContain(`up to ${STATE_KEY_CAVEAT.split(":")[0]}`);
    const allJson = JSON.parse(
      (await cli(["explore", "--scenario", "seed-2008", "--policy", "all", "--json"])).stdout,
    );
    expect(allJson).toMatchObject({ stateKeyLeavesOut: null, stateKeyCaveat: STATE_KEY_CAVEAT });
    // random and pct hash no states: no caveat to say
    const random = await cli([
      "explore",
      "--scenario",
      "seed-2008",
      "--policy",
      "global-lock",
      "--strategy",
      "random",
      "--runs",
      "20",
      "--json",
    ]);
    expect(JSON.parse(random.stdout)).toMatchObject({ stateKeyLeavesOut: null, stateKeyCaveat: null });
    const all = await cli(["explore", "--scenario", "seed-2008", "--policy", "all"]);
    expect(all.code).toBe(1);
    expect(all.stdout).toMatch(/global-lock +none found +none: search complete/);
    // Under the table, the caveat the one-policy line says (the table claimed more).
    expect(all.stdout).toContain(
      "\nnone: search complete over hashed states (equal keys, equal futures, up to where waits fell between a program's steps: docs/explorer.md)\n",
    );
    expect(all.stdout).not.toContain("not a proof");
    for (const p of [
      "naive",
      "global-lock",
      "target-mask",
      "percpu-counters",
      "mask-on-alloc-failure",
      "poll-own-queue",
      "modern",
    ])
      expect(all.stdout).toContain(p);
    expect(all.stdout).toMatch(/naive +deadlock after 1 schedule/);
  });

  it("explore --preemption-bound none searches every interleaving; the bounded search says its bound", async () => {
    const none = JSON.parse(
      (
        await cli([
          "explore",
          "--scenario",
          "seed-2008",
          "--policy",
          "poll-own-queue",
          "--calls",
          "2",
          "--preemption-bound",
          "none",
          "--json",
        ])
      ).stdout,
    );
    expect(none).toMatchObject({ complete: true, preemptionBound: null, violation: null });
    const bounded = JSON.parse(
      (
        await cli([
          "explore",
          "--scenario",
          "seed-2008",
          "--policy",
          "poll-own-queue",
          "--calls",
          "2",
          "--preemption-bound",
          "0",
          "--json",
        ])
      ).stdout,
    );
    expect(bounded).toMatchObject({ complete: true, preemptionBound: 0 });
    expect(bounded.distinctStates).toBeLessThan(none.distinctStates);
  });

  it.each([
    [["explore", "--scenario", "nope"], /unknown scenario "nope"/],
    [["explore", "--scenario", "seed-2008", "--policy", "nope"], /unknown policy "nope"/],
    [["explore", "--scenario", "seed-2008", "--cpus", "99"], /bad --cpus "99": expected an integer 2\.\.8/],
    [
      ["explore", "--scenario", "./no-such-scenario.js"],
      /scenario module \.\/no-such-scenario\.js could not be loaded/,
    ],
    [
      ["explore", "--scenario", "seed-2008", "--preemption-bound", "lots"],
      /bad --preemption-bound "lots": expected an integer 0\.\.1000, or none/,
    ],
    [["replay", "--schedule", "garbage"], /bad schedule at character 1: expected a string starting "smp2,"/],
  ])("usage errors exit 2: %j", async (args, msg) => {
    const r = await cli(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(msg);
  });
});

describe("smpcall HTML reports", () => {
  it("run --html writes one self-contained page; report rebuilds one from a saved Chrome trace", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "smpcall-"));
    const html = path.join(dir, "r.html");
    const trace = path.join(dir, "t.json");
    const run = await cli(["run", "--ops", "40", "--html", html, "--trace", trace]);
    expect(run.code).toBe(0);
    const page = fs.readFileSync(html, "utf8");
    expect(page).toMatch(/^<!doctype html>/);
    expect(page).not.toMatch(/https?:\/\//);
    const rep = await cli(["report", "--trace", trace, "--out", path.join(dir, "r2.html")]);
    expect(rep.code).toBe(0);
    expect(rep.stdout).toMatch(/report: \d+ spans, \d+ IPI arrows written/);
  });

  it("a trace cut by --trace-limit still draws its spans, from run --html and from report", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "smpcall-"));
    const html = path.join(dir, "r.html");
    const trace = path.join(dir, "t.json");
    const args = ["run", "--cpus", "16", "--workload", "broadcast", "--ops", "60", "--trace-limit", "300"];
    expect((await cli([...args, "--html", html, "--trace", trace])).code).toBe(0);
    const data = (file: string) =>
      JSON.parse(
        /<script type="application\/json" id="smpcall-data">([\s\S]*?)<\/script>/.exec(
          fs.readFileSync(file, "utf8"),
        )![1],
      ) as { timeline: { startNs: number; spans: { lane: number[]; start: number[]; end: number[] } } };
    const t = data(html).timeline;
    expect(t.spans.lane.length).toBeGreaterThan(20);
    // spans whose start was overwritten begin at the first record kept
    expect(Math.min(...t.spans.start)).toBe(t.startNs);
    for (let i = 0; i < t.spans.start.length; i++)
      expect(t.spans.end[i]).toBeGreaterThanOrEqual(t.spans.start[i]);
    const rep = await cli(["report", "--trace", trace, "--out", path.join(dir, "r2.html")]);
    expect(rep.code).toBe(0);
    const spans = Number(/report: (\d+) spans/.exec(rep.stdout)![1]);
    expect(spans).toBeGreaterThan(20);
    expect(data(path.join(dir, "r2.html")).timeline.spans.lane.length).toBe(spans);
  });

  it("replay --html marks the deadlock", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "smpcall-"));
    const e = JSON.parse(
      (await cli(["explore", "--scenario", "seed-2008", "--policy", "naive", "--json"])).stdout,
    );
    const html = path.join(dir, "dl.html");
    expect((await cli(["replay", "--schedule", e.violation.schedule, "--html", html])).code).toBe(1);
    const json = /<script type="application\/json" id="smpcall-data">([\s\S]*?)<\/script>/.exec(
      fs.readFileSync(html, "utf8"),
    )![1];
    expect(JSON.parse(json).timeline.deadlock.cycle).toEqual([0, 1]);
  });

  it("explore --html writes the counterexample's timeline with the violation and the policy comparison", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "smpcall-"));
    const html = path.join(dir, "ex.html");
    expect((await cli(["explore", "--scenario", "seed-2008", "--policy", "all", "--html", html])).code).toBe(
      1,
    );
    const page = fs.readFileSync(html, "utf8");
    const data = JSON.parse(
      /<script type="application\/json" id="smpcall-data">([\s\S]*?)<\/script>/.exec(page)![1],
    );
    expect(data.timeline.deadlock.cycle).toEqual([0, 1]);
    expect(data.policies.map((p: { policy: string }) => p.policy)).toEqual([
      "naive",
      "global-lock",
      "target-mask",
      "percpu-counters",
      "mask-on-alloc-failure",
      "poll-own-queue",
      "modern",
    ]);
    expect(page).toContain("Policy comparison");
  });

  it("report refuses a missing or foreign trace with exit 2", async () => {
    const missing = await cli(["report", "--trace", "/nonexistent.json", "--out", "/tmp/x.html"]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/cannot read trace \/nonexistent\.json/);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "smpcall-"));
    const foreign = path.join(dir, "f.json");
    fs.writeFileSync(foreign, JSON.stringify({ traceEvents: [], metadata: {} }));
    const r = await cli(["report", "--trace", foreign, "--out", path.join(dir, "x.html")]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/f\.json is not an smpcall trace: metadata\.cpus is undefined/);
  });
});
