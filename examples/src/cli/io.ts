import * as fs from "node:fs";

/** Where a command writes and what it can see of its environment; tests pass their own. */
export interface CliIo {
  /** Write to standard output (no newline added). */
  out(text: string): void;
  /** Write to standard error (no newline added). */
  err(text: string): void;
  /** Standard output is a terminal (progress bars only then). */
  readonly isTTY: boolean;
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
  /** Set the exit status the CLI ends with (0 ok, 1 problem found; usage errors are 2 via UsageError). */
  setExitCode(code: number): void;
  /**
   * What a long command has done so far, in one line (e.g. "12000 schedules explored, no
   * verdict"): printed if the user interrupts it with Ctrl-C. Optional; commands call it
   * sparingly (at their progress ticks).
   */
  progress?(summary: string): void;
  /**
   * The command's user modules are loaded and it watches their code itself from here (conform:
   * each check under --check-timeout): a watch on the loading (see {@link StallWatch}) ends.
   */
  loaded?(): void;
}

/** The real process's streams. A reader that goes away (`smpcall archs | head`) ends the CLI quietly, as Unix tools do. */
export function processIo(): CliIo & { exitCode: number } {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on("error", (e: NodeJS.ErrnoException) => {
      if (e.code === "EPIPE") process.exit(process.exitCode ?? 0);
      throw e;
    });
  }
  const io = {
    exitCode: 0,
    out: (t: string) => void process.stdout.write(t),
    err: (t: string) => void process.stderr.write(t),
    isTTY: process.stdout.isTTY === true,
    env: process.env,
    cwd: process.cwd(),
    setExitCode(code: number) {
      io.exitCode = code;
    },
  };
  return io;
}

/** An in-memory io for tests: collects output. */
export function memoryIo(
  env: NodeJS.ProcessEnv = {},
  cwd = process.cwd(),
): CliIo & { stdout: string; stderr: string; exitCode: number; lastProgress: string } {
  const io = {
    stdout: "",
    stderr: "",
    exitCode: 0,
    lastProgress: "",
    progress(summary: string) {
      io.lastProgress = summary;
    },
    isTTY: false,
    env,
    cwd,
    out(t: string) {
      io.stdout += t;
    },
    err(t: string) {
      io.stderr += t;
    },
    setExitCode(code: number) {
      io.exitCode = code;
    },
  };
  return io;
}

/** Progress bars only on a terminal, never in CI. */
export function wantsProgress(io: CliIo, json: boolean): boolean {
  return io.isTTY && !json && !io.env.CI;
}

/** What a path that is neither a file, a folder nor a pipe is, for messages (`a character device`). */
export function fileKind(st: fs.Stats): string {
  if (st.isCharacterDevice()) return "a character device";
  if (st.isBlockDevice()) return "a block device";
  if (st.isSocket()) return "a socket";
  if (st.isFIFO()) return "a pipe";
  return "not a regular file";
}

/**
 * Read a text input (a replay file, a trace, a shard file) that must be a file: a device such
 * as /dev/zero would be read for ever, filling memory. Pipes are read (`--schedule-file
 * /dev/stdin`). Throws Node's error for a missing file or a folder (`ENOENT`, `EISDIR`), or an
 * error with code `ENOTFILE` whose message says what the path is instead.
 */
export function readInputFile(file: string): string {
  const st = fs.statSync(file);
  if (!st.isFile() && !st.isFIFO() && !st.isDirectory()) {
    const e: NodeJS.ErrnoException = new Error(`it is ${fileKind(st)}, not a file`);
    e.code = "ENOTFILE";
    throw e;
  }
  return fs.readFileSync(file, "utf8");
}
