import * as fs from "node:fs";
import { STALL_TIMEOUT_ENV, stallTimeoutS } from "./interrupt";

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

/** The most bytes smpcall reads from a replay file (`replay --schedule-file`) or a shard file (`explore merge`): 64 MiB. */
export const MAX_SCHEDULE_INPUT_BYTES = 64 * 1024 * 1024;

/**
 * The most bytes `report --trace` reads: 500 MiB, below the longest string Node.js can hold
 * (512 MiB less 24 characters), which a larger trace could not be parsed as anyway.
 */
export const MAX_TRACE_INPUT_BYTES = 500 * 1024 * 1024;

/** How {@link readInputFile} bounds one input. */
export interface InputBound {
  /** The most bytes it reads: a larger file is refused before it is read, a pipe when it passes this. */
  readonly maxBytes: number;
  /** What to do about an input over {@link InputBound.maxBytes}, for the message. */
  readonly tooLargeHint: string;
}

/** Bytes read at a time. */
const READ_CHUNK = 1 << 16;

/** `n` bytes for messages: `64 MiB` when whole mebibytes, else the number. */
function bytesText(n: number): string {
  return n % (1024 * 1024) === 0 ? `${n / (1024 * 1024)} MiB` : `${n.toLocaleString("en-US")} bytes`;
}

function inputError(code: string, message: string): NodeJS.ErrnoException {
  const e: NodeJS.ErrnoException = new Error(message);
  e.code = code;
  return e;
}

/** Sleep this thread for `ms` (the read and open loops are synchronous, as the commands that call them are). */
export function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * Read a text input (a replay file, a trace, a shard file) that must be a file or a pipe, at
 * most `bound.maxBytes` of it: a device such as /dev/zero would be read for ever, and so would a
 * pipe from `yes`, filling memory. A regular file larger than the bound is refused by its size,
 * before it is read; a pipe (`--schedule-file /dev/stdin`, `<(cmd)`, a FIFO) is read in pieces
 * and refused when it passes the bound, holding no more than that. A pipe that gives no data for
 * $SMPCALL_STALL_TIMEOUT_S seconds (60 unset), e.g. a FIFO no program opened for writing, is
 * refused rather than waited on for ever; while it waits, `io.progress` says so (which also
 * keeps a watched command's stall watch from taking it for a module that loops).
 *
 * Throws Node's error for a missing file or a folder (`ENOENT`, `EISDIR`), or an error whose
 * message says what was wrong with code `ENOTFILE` (a device or socket), `EFBIG` (over the
 * bound), `ETIMEDOUT` (a pipe without data) or `EENCODING` (UTF-16 text); a UTF-8 byte-order
 * mark is dropped; {@link describeInputError} words any of them.
 */
export function readInputFile(file: string, io: Pick<CliIo, "env" | "progress">, bound: InputBound): string {
  const st = fs.statSync(file);
  if (st.isDirectory()) throw inputError("EISDIR", "it is a folder");
  // Refused before it is opened: opening some devices does something (a watchdog starts).
  if (!st.isFile() && !st.isFIFO()) throw inputError("ENOTFILE", `it is ${fileKind(st)}, not a file`);
  const tooLarge = (what: string): never => {
    throw inputError(
      "EFBIG",
      `${what} the ${bytesText(bound.maxBytes)} smpcall reads from it; ${bound.tooLargeHint}`,
    );
  };
  if (st.isFile() && st.size > bound.maxBytes)
    tooLarge(`it is ${st.size.toLocaleString("en-US")} bytes, more than`);
  // Non-blocking: opening a FIFO that no program has open for writing would block for ever.
  const fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  try {
    const now = fs.fstatSync(fd);
    if (!now.isFile() && !now.isFIFO()) throw inputError("ENOTFILE", `it is ${fileKind(now)}, not a file`);
    const pipe = now.isFIFO();
    const waitMs = pipe ? stallTimeoutS(io.env) * 1000 : 0;
    const pieces: Buffer[] = [];
    let total = 0;
    let lastData = Date.now();
    let lastProgress = 0;
    let idle = 0;
    for (;;) {
      const buf = Buffer.allocUnsafe(Math.min(READ_CHUNK, bound.maxBytes + 1 - total));
      let n: number;
      try {
        n = fs.readSync(fd, buf, 0, buf.length, null);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "EAGAIN") throw e;
        n = -1; // a writer, but no data yet
      }
      if (n > 0) {
        pieces.push(buf.subarray(0, n));
        total += n;
        if (total > bound.maxBytes)
          tooLarge(pipe ? "it is a pipe that gave more than" : "it grew while read to more than");
        lastData = Date.now();
        idle = 0;
        continue;
      }
      // A regular file ends at 0; so does a pipe whose writer has closed it, once it gave data.
      // Before any data, 0 from a pipe means no program has it open for writing yet: wait.
      if (!pipe || (n === 0 && total > 0)) break;
      const waited = Date.now() - lastData;
      if (waited >= waitMs)
        throw inputError(
          "ETIMEDOUT",
          `it is a pipe that gave ${total === 0 ? "no data" : "no more data"} for ${waitMs / 1000} s (is a program writing to it? ` +
            `$${STALL_TIMEOUT_ENV} sets the wait)`,
        );
      if (Date.now() - lastProgress >= 1000) {
        lastProgress = Date.now();
        io.progress?.(`waiting for data from the pipe ${file} (${total.toLocaleString("en-US")} bytes read)`);
      }
      sleepMs(Math.min(50, 1 << idle));
      idle = Math.min(idle + 1, 6);
    }
    return decodeInput(Buffer.concat(pieces, total));
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * UTF-8 text of an input, without a UTF-8 byte-order mark (some Windows editors write one). Text
 * in UTF-16 (Windows PowerShell 5's `>` writes it) is refused with code `EENCODING`: read as
 * UTF-8 it would be refused later as "not JSON" or "not a schedule" without saying why.
 */
function decodeInput(data: Buffer): string {
  if (data.length >= 2 && ((data[0] === 0xff && data[1] === 0xfe) || (data[0] === 0xfe && data[1] === 0xff)))
    throw inputError(
      "EENCODING",
      `it is UTF-16 text (it starts with the byte-order mark ${data[0].toString(16).toUpperCase()} ${data[1].toString(16).toUpperCase()}), not UTF-8: save it as UTF-8 (PowerShell: Out-File -Encoding utf8)`,
    );
  const text = data.toString("utf8");
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/** A JSON.parse error's message on one line (V8 quotes the text around the error, newlines and all). */
export function jsonErrorText(e: unknown): string {
  return String((e as Error)?.message ?? e).replace(/\s*\n\s*/g, " ");
}

/**
 * Why {@link readInputFile} could not read `file`, in words for a message: `no such file`, `it
 * is a folder`, the message of its own errors, else Node's first line.
 */
export function describeInputError(e: unknown, file: string): string {
  const err = e as NodeJS.ErrnoException;
  switch (err?.code) {
    case "ENOENT":
      return file === "-"
        ? "no such file (smpcall takes - as a file name; for standard input give /dev/stdin)"
        : "no such file";
    case "EISDIR":
      return "it is a folder";
    case "EACCES":
      return "permission denied";
    default:
      return String(err?.message ?? e).split("\n")[0];
  }
}
