import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { main } from "../src/cli/main";
import { MAX_SCHEDULE_INPUT_BYTES, MAX_TRACE_INPUT_BYTES, memoryIo } from "../src/cli/io";

const BIN = path.resolve(__dirname, "../bin/smpcall.js");

/**
 * Inputs read without bound and outputs that are not files: a pipe given as an input (a FIFO, `<(yes)`,
 * /dev/stdin) is read in pieces up to a documented maximum, a FIFO nobody writes to is given up
 * after $SMPCALL_STALL_TIMEOUT_S, a regular file over the maximum is refused by its size; `-` is
 * no alias of standard output, and an output that is the file standard output goes to (or, with
 * --json, standard output at all) is refused before the run.
 */
let dir = "";
let schedule = "";
const children: ChildProcess[] = [];

async function cli(args: readonly string[], env: Record<string, string> = {}) {
  const io = memoryIo(env, dir);
  const code = await main(args, io);
  return { code, stdout: io.stdout, stderr: io.stderr };
}

function fifo(name: string): string {
  const p = path.join(dir, name);
  const made = spawnSync("mkfifo", [p]);
  if (made.error || made.status !== 0) throw new Error("this test needs mkfifo (coreutils)");
  return p;
}

/** A shell command writing into a FIFO from another process (the CLI reads synchronously). */
function writer(command: string): ChildProcess {
  const child = spawn("sh", ["-c", command], { cwd: dir, stdio: "ignore" });
  children.push(child);
  return child;
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "smpcall-input-bounds-"));
  const r = await cli([
    "explore",
    "--scenario",
    "seed-2008",
    "--policy",
    "naive",
    "--save-schedule",
    "s.json",
  ]);
  expect(r.code).toBe(1);
  schedule = fs.readFileSync(path.join(dir, "s.json"), "utf8");
});

afterAll(() => {
  for (const c of children) c.kill("SIGKILL");
  fs.rmSync(dir, { recursive: true, force: true });
});

describe("- as a file name", () => {
  it.each([
    [
      ["run", "--ops", "5", "--trace", "-"],
      'smpcall: bad --trace "-": - is not standard output here (a file named - would be written): give a file name, or /dev/stdout to print the trace on standard output before the report (./- for a file named -)\n',
    ],
    [
      ["run", "--ops", "5", "--json", "--trace=-"],
      'smpcall: bad --trace "-": - is not standard output here (a file named - would be written): give a file name (./- for a file named -)\n',
    ],
    [
      ["run", "--ops", "5", "--html", "-"],
      'smpcall: bad --html "-": - is not standard output here (a file named - would be written): give a file name (./- for a file named -)\n',
    ],
    [
      ["replay", "--schedule-file", "s.json", "--trace", "-"],
      'smpcall: bad --trace "-": - is not standard output here (a file named - would be written): give a file name, or /dev/stdout to print the trace on standard output before the report (./- for a file named -)\n',
    ],
    [
      ["explore", "--scenario", "seed-2008", "--save-schedule", "-"],
      'smpcall: bad --save-schedule "-": - is not standard output here (a file named - would be written): give a file name (./- for a file named -)\n',
    ],
    [
      ["report", "--trace", "t.json", "--out", "-"],
      'smpcall: bad --out "-": - is not standard output here (a file named - would be written): give a file name (./- for a file named -)\n',
    ],
  ])("%j is refused, no file - written", async (args, line) => {
    const r = await cli(args);
    expect(r).toEqual({ code: 2, stdout: "", stderr: line });
    expect(fs.existsSync(path.join(dir, "-"))).toBe(false);
  });

  it("./- still writes a file named -", async () => {
    const r = await cli(["run", "--ops", "5", "--trace", "./-", "--trace-format", "ftrace"]);
    expect(r.code).toBe(0);
    expect(fs.readFileSync(path.join(dir, "-"), "utf8")).toMatch(/^# tracer: nop/);
    fs.rmSync(path.join(dir, "-"));
  });

  it("an input named - that does not exist says how to read standard input", async () => {
    expect(await cli(["replay", "--schedule-file", "-"])).toEqual({
      code: 2,
      stdout: "",
      stderr:
        "smpcall: cannot read replay file -: no such file (smpcall takes - as a file name; for standard input give /dev/stdin)\n",
    });
  });
});

describe("an output that is standard output", () => {
  const run = ["run", "--cpus", "2", "--ops", "2", "--trace-format", "ftrace"];

  it("redirected to a file is refused: the trace and the report would overwrite each other", () => {
    const out = path.join(dir, "stdout.txt");
    const fd = fs.openSync(out, "w");
    const r = spawnSync(process.execPath, [BIN, ...run, "--trace", "/dev/stdout"], {
      stdio: ["ignore", fd, "pipe"],
      encoding: "utf8",
      timeout: 60_000,
    });
    fs.closeSync(fd);
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(
      'smpcall: bad --trace "/dev/stdout": is the file standard output is redirected to, which smpcall also writes: the two would overwrite each other; write it to another file\n',
    );
    expect(fs.readFileSync(out, "utf8")).toBe("");
  });

  /** `smpcall ARGS | cat` through a shell: a real pipe (Node's own child stdio is a socket). */
  const piped = (args: readonly string[]) =>
    spawnSync("sh", ["-c", `"$0" "$@" | cat`, process.execPath, BIN, ...args], {
      encoding: "utf8",
      timeout: 60_000,
    });

  it("with --json is refused even as a pipe: stdout is one JSON document", () => {
    const r = piped([...run, "--json", "--trace", "/dev/stdout"]);
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe(
      'smpcall: bad --trace "/dev/stdout": is standard output, where --json prints its one JSON document; write it to a file\n',
    );
  });

  it("a pipe without --json gets the trace, then the report", () => {
    const r = piped([...run, "--trace", "/dev/stdout"]);
    expect(r.stderr).toBe("");
    expect(r.stdout).toMatch(
      /^# tracer: nop\n[^]*\nsmpcall run: workload mixed[^]*\ntrace: \d+ records written to \/dev\/stdout/,
    );
  });
});

describe("input size bounds", () => {
  it.each([
    [
      ["replay", "--schedule-file", "big.txt"],
      MAX_SCHEDULE_INPUT_BYTES + 1,
      "smpcall: cannot read replay file big.txt: it is 67,108,865 bytes, more than the 64 MiB smpcall reads from it; a replay file holds one schedule (explore --save-schedule or --json): is it the right file?\n",
    ],
    [
      ["explore", "merge", "big.txt"],
      MAX_SCHEDULE_INPUT_BYTES + 1,
      "smpcall: shard file big.txt could not be read: it is 67,108,865 bytes, more than the 64 MiB smpcall reads from it; a shard file is the result explore --shard i/n --out FILE wrote: is it the right file?\n",
    ],
    [
      ["report", "--trace", "big.txt", "--out", "o.html"],
      MAX_TRACE_INPUT_BYTES + 1,
      "smpcall: cannot read trace big.txt: it is 524,288,001 bytes, more than the 500 MiB smpcall reads from it; trace a shorter run, or keep its end with --trace-limit N\n",
    ],
  ])("%j: a regular file over the bound is refused by its size, unread", async (args, size, line) => {
    // Sparse: no disk is used, and a read of it would take seconds and its size in memory.
    const big = path.join(dir, "big.txt");
    fs.writeFileSync(big, "");
    fs.truncateSync(big, size);
    const before = process.memoryUsage().rss;
    const t0 = Date.now();
    const r = await cli(args);
    expect(r).toEqual({ code: 2, stdout: "", stderr: line });
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(process.memoryUsage().rss - before).toBeLessThan(32 * 1024 * 1024);
    fs.rmSync(big);
  });
});

describe("a pipe as an input", () => {
  it("a FIFO no program writes to is given up after $SMPCALL_STALL_TIMEOUT_S, not waited on for ever", async () => {
    const f = fifo("nowriter");
    const env = { SMPCALL_STALL_TIMEOUT_S: "1" };
    const t0 = Date.now();
    for (const [args, prefix] of [
      [["replay", "--schedule-file", "nowriter"], "cannot read replay file nowriter:"],
      [["report", "--trace", "nowriter", "--out", "o.html"], "cannot read trace nowriter:"],
      [["explore", "merge", "nowriter"], "shard file nowriter could not be read:"],
    ] as const)
      expect(await cli(args, env)).toEqual({
        code: 2,
        stdout: "",
        stderr: `smpcall: ${prefix} it is a pipe that gave no data for 1 s (is a program writing to it? $SMPCALL_STALL_TIMEOUT_S sets the wait)\n`,
      });
    expect(Date.now() - t0).toBeLessThan(10_000);
    fs.rmSync(f);
  }, 30_000);

  it("replay in its watched worker says it is the pipe, not a module that loops, and ends", () => {
    fifo("nowriter2");
    const r = spawnSync(process.execPath, [BIN, "replay", "--schedule-file", "nowriter2"], {
      cwd: dir,
      encoding: "utf8",
      env: { ...process.env, SMPCALL_STALL_TIMEOUT_S: "2" },
      timeout: 30_000,
    });
    expect(r.signal).toBeNull();
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(
      "smpcall: cannot read replay file nowriter2: it is a pipe that gave no data for 2 s (is a program writing to it? $SMPCALL_STALL_TIMEOUT_S sets the wait)\n",
    );
  }, 40_000);

  it("a pipe that gives more than the bound is refused there, holding no more", async () => {
    fifo("yes");
    writer("exec yes > yes");
    const before = process.memoryUsage().rss;
    const r = await cli(["explore", "merge", "yes"]);
    expect(r).toEqual({
      code: 2,
      stdout: "",
      stderr:
        "smpcall: shard file yes could not be read: it is a pipe that gave more than the 64 MiB smpcall reads from it; a shard file is the result explore --shard i/n --out FILE wrote: is it the right file?\n",
    });
    expect(process.memoryUsage().rss - before).toBeLessThan(3 * MAX_SCHEDULE_INPUT_BYTES);
  }, 60_000);

  it("a FIFO whose writer comes later is read whole: the replay runs", async () => {
    fifo("late");
    fs.writeFileSync(path.join(dir, "s-copy.json"), schedule);
    writer("sleep 0.5; cat s-copy.json > late");
    const r = await cli(["replay", "--schedule-file", "late"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^replay seed-2008 \/ policy naive .*: deadlock at \d+ ns\n/);
  }, 30_000);
});

describe("the encoding of an input", () => {
  it("a UTF-8 byte-order mark is dropped: a shard file saved by a Windows editor merges", async () => {
    expect(
      (await cli(["explore", "--scenario", "seed-2008", "--shard", "0/1", "--out", "sh.json"])).code,
    ).toBe(0);
    const text = fs.readFileSync(path.join(dir, "sh.json"), "utf8");
    fs.writeFileSync(path.join(dir, "sh-bom.json"), "\ufeff" + text);
    const r = await cli(["explore", "merge", "sh-bom.json", "--json"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ complete: true, violation: null });
  });

  it.each([
    [["replay", "--schedule-file", "u16.json"], "cannot read replay file u16.json:"],
    [["explore", "merge", "u16.json"], "shard file u16.json could not be read:"],
    [["report", "--trace", "u16.json", "--out", "o.html"], "cannot read trace u16.json:"],
  ])("%j: UTF-16 text (PowerShell's >) is refused saying so", async (args, prefix) => {
    fs.writeFileSync(path.join(dir, "u16.json"), Buffer.from("\ufeff" + schedule, "utf16le"));
    expect(await cli(args)).toEqual({
      code: 2,
      stdout: "",
      stderr: `smpcall: ${prefix} it is UTF-16 text (it starts with the byte-order mark FF FE), not UTF-8: save it as UTF-8 (PowerShell: Out-File -Encoding utf8)\n`,
    });
  });

  it.each([
    [
      ["replay", "--schedule-file", "broken.json"],
      `smpcall: replay file broken.json is not valid JSON: Unexpected token 'x', "{ "schedule": x }" is not valid JSON\n`,
    ],
    [
      ["explore", "merge", "broken.json"],
      `smpcall: shard file broken.json is not JSON (Unexpected token 'x', "{ "schedule": x } " is not valid JSON): corrupt or truncated?\n`,
    ],
  ])("%j: JSON that does not parse is one line, though V8 quotes its newlines", async (args, line) => {
    fs.writeFileSync(path.join(dir, "broken.json"), '{\n  "schedule": x\n}\n');
    expect(await cli(args)).toEqual({ code: 2, stdout: "", stderr: line });
  });
});

describe("a pipe or a full disk as an output", () => {
  it.each([
    [["run", "--ops", "5", "--trace", "outfifo"], "cannot write trace file outfifo"],
    [
      ["run", "--ops", "5", "--trace", "outfifo", "--trace-format", "ftrace"],
      "cannot write trace file outfifo",
    ],
    [["run", "--ops", "5", "--html", "outfifo"], "cannot write HTML report outfifo"],
    [
      ["explore", "--scenario", "seed-2008", "--policy", "naive", "--save-schedule", "outfifo"],
      "cannot write --save-schedule file outfifo",
    ],
    [
      ["explore", "--scenario", "seed-2008", "--shard", "0/1", "--out", "outfifo"],
      "cannot write --out file outfifo",
    ],
  ])(
    "%j: a FIFO no program reads is given up after $SMPCALL_STALL_TIMEOUT_S",
    async (args, prefix) => {
      if (!fs.existsSync(path.join(dir, "outfifo"))) fifo("outfifo");
      const t0 = Date.now();
      const r = await cli(args, { SMPCALL_STALL_TIMEOUT_S: "1" });
      expect(r.stderr).toBe(
        `smpcall: ${prefix}: it is a pipe that no program opened for reading within 1 s ($SMPCALL_STALL_TIMEOUT_S sets the wait)\n`,
      );
      expect(r.code).toBe(2);
      expect(Date.now() - t0).toBeLessThan(10_000);
    },
    30_000,
  );

  it.each(["ftrace", "chrome"])(
    "a FIFO with a reader gets the whole %s trace",
    async (format) => {
      fifo(`read-${format}`);
      const reader = writer(`cat read-${format} > got-${format}.txt`);
      const done = new Promise((resolve) => reader.on("exit", resolve));
      const r = await cli([
        "run",
        "--ops",
        "5",
        "--cpus",
        "2",
        "--trace",
        `read-${format}`,
        "--trace-format",
        format,
      ]);
      expect(r.code).toBe(0);
      await done;
      const got = fs.readFileSync(path.join(dir, `got-${format}.txt`), "utf8");
      const n = Number(/trace: (\d+) records written/.exec(r.stdout)![1]);
      if (format === "chrome") expect(JSON.parse(got).traceEvents.length).toBeGreaterThanOrEqual(n);
      else {
        expect(got).toMatch(new RegExp(`^# tracer: nop\\n[^]*# entries-in-buffer/entries-written: ${n}/`));
        expect(got.split("\n").filter((l) => l !== "" && !l.startsWith("#"))).toHaveLength(n);
      }
    },
    30_000,
  );

  it.each([
    [
      ["explore", "--scenario", "seed-2008", "--policy", "naive", "--save-schedule", "/dev/full"],
      "smpcall: cannot write --save-schedule file /dev/full: ENOSPC: no space left on device, write\n",
    ],
    [
      ["explore", "--scenario", "seed-2008", "--shard", "0/1", "--out", "/dev/full"],
      "smpcall: cannot write --out file /dev/full: ENOSPC: no space left on device, write\n",
    ],
  ])("%j: a full disk is a usage error (exit 2), not an internal error", async (args, line) => {
    if (!fs.existsSync("/dev/full")) return;
    expect(await cli(args)).toEqual({ code: 2, stdout: "", stderr: line });
  });
});
