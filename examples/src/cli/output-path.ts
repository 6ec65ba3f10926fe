import * as fs from "node:fs";
import * as path from "node:path";
import { UsageError } from "@smpcall/core";
import { sleepMs, type CliIo } from "./io";
import { STALL_TIMEOUT_ENV, stallTimeoutS } from "./interrupt";

/** A file a command will write, named by its flag (`--trace`), checked before any work starts. */
export interface OutputFile {
  readonly flag: string;
  readonly file: string | undefined;
}

/** A file a command reads, which no output may overwrite. */
export interface InputFile {
  readonly flag: string;
  readonly file: string | undefined;
}

function statOrNull(p: string): fs.Stats | null {
  try {
    return fs.statSync(p);
  } catch {
    return null;
  }
}

/** The real path of `full`, or of its folder plus its name when it does not exist yet. */
function canonical(full: string): string {
  try {
    return fs.realpathSync(full);
  } catch {
    try {
      return path.join(fs.realpathSync(path.dirname(full)), path.basename(full));
    } catch {
      return full;
    }
  }
}

/** The file behind this process's descriptor `fd`, or null (closed). */
function fdStatOrNull(fd: number): fs.Stats | null {
  try {
    return fs.fstatSync(fd);
  } catch {
    return null;
  }
}

function sameFile(a: fs.Stats, b: fs.Stats | null): boolean {
  return b !== null && a.dev === b.dev && a.ino === b.ino;
}

/**
 * Check the files a command will write before it simulates anything: each must name a file (not
 * a folder) in a folder that exists and is writable, an existing file must be writable, no two
 * outputs may be the same file, and no output may be one of the command's inputs. `-` is refused
 * (it is no alias of standard output here: a file named `-` would be written), and so is the
 * file standard output or error is redirected to (`--trace /dev/stdout > f`: the output, opened
 * anew, and the report would overwrite each other in it); with `json`, standard output itself in
 * any form (`--trace /dev/stdout` would break the one JSON document). Throws a
 * {@link UsageError} (exit 2) naming the flag, the path and what to do.
 */
export function checkOutputFiles(
  outputs: readonly OutputFile[],
  cwd: string,
  inputs: readonly InputFile[] = [],
  json = false,
): void {
  const seen = new Map<string, string>();
  const ins = new Map<string, string>();
  for (const i of inputs) if (i.file !== undefined) ins.set(canonical(path.resolve(cwd, i.file)), i.flag);
  for (const { flag, file } of outputs) {
    if (file === undefined) continue;
    const bad: (why: string) => never = (why) => {
      throw new UsageError(`bad ${flag} "${file}": ${why}`);
    };
    if (file.trim() === "") bad("give a file name");
    if (file === "-")
      bad(
        `- is not standard output here (a file named - would be written): give a file name${flag === "--trace" && !json ? ", or /dev/stdout to print the trace on standard output before the report" : ""} (./- for a file named -)`,
      );
    const full = path.resolve(cwd, file);
    const st = statOrNull(full);
    if (st !== null && st.isDirectory()) bad("is a folder; give the name of a file to write");
    if (st !== null) {
      const out = fdStatOrNull(1);
      if (json && sameFile(st, out))
        bad("is standard output, where --json prints its one JSON document; write it to a file");
      for (const [fd, name] of [
        [1, "standard output"],
        [2, "standard error"],
      ] as const) {
        const std = fd === 1 ? out : fdStatOrNull(2);
        if (st.isFile() && sameFile(st, std))
          bad(
            `is the file ${name} is redirected to, which smpcall also writes: the two would overwrite each other; write it to another file`,
          );
      }
    }
    const dir = path.dirname(full);
    const dst = statOrNull(dir);
    if (dst === null) bad(`folder ${path.dirname(file) || "."} does not exist; create it first`);
    if (!dst.isDirectory()) bad(`${path.dirname(file)} is not a folder`);
    try {
      fs.accessSync(st !== null ? full : dir, fs.constants.W_OK);
    } catch {
      bad(st !== null ? "the file is not writable" : `folder ${path.dirname(file) || "."} is not writable`);
    }
    const key = canonical(full);
    const input = ins.get(key);
    if (input !== undefined) bad(`is the ${input} file this command reads; write to another file`);
    const other = seen.get(key);
    if (other !== undefined) bad(`is also the ${other} file; give each output its own file`);
    seen.set(key, flag);
  }
}

/**
 * Open `full` for writing from its start (`w`). A FIFO is opened only once a program reads it:
 * a plain open would wait for a reader for ever (`--trace FIFO` with nothing reading it hung the
 * run before it started). It is tried every few milliseconds for $SMPCALL_STALL_TIMEOUT_S
 * seconds (60 unset), saying so through `io.progress` once a second (which also keeps a watched
 * command's stall watch from taking the wait for a module that loops), then refused with an
 * error of code `ENXIO` whose message says why.
 */
export function openOutputFd(full: string, io: Pick<CliIo, "env" | "progress">): number {
  let st: fs.Stats | null = null;
  try {
    st = fs.statSync(full);
  } catch {
    // a new file
  }
  if (st === null || !st.isFIFO()) return fs.openSync(full, "w");
  const waitMs = stallTimeoutS(io.env) * 1000;
  const start = Date.now();
  let lastProgress = 0;
  for (let idle = 0; ; idle = Math.min(idle + 1, 6)) {
    let probe: number;
    try {
      // Non-blocking, a FIFO without a reader fails at once (ENXIO) instead of waiting.
      probe = fs.openSync(full, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENXIO") throw e;
      if (Date.now() - start >= waitMs) {
        const err: NodeJS.ErrnoException = new Error(
          `it is a pipe that no program opened for reading within ${waitMs / 1000} s ($${STALL_TIMEOUT_ENV} sets the wait)`,
        );
        err.code = "ENXIO";
        throw err;
      }
      if (Date.now() - lastProgress >= 1000) {
        lastProgress = Date.now();
        io.progress?.(`waiting for a program to read the pipe ${full}`);
      }
      sleepMs(Math.min(50, 1 << idle));
      continue;
    }
    // A reader is there: open it as usual (blocking writes) while the probe keeps the pipe open,
    // so that the reader does not see the end of its input in between.
    try {
      return fs.openSync(full, "w");
    } finally {
      fs.closeSync(probe);
    }
  }
}

/**
 * Write `text` to the output `file` (relative to io.cwd), through {@link openOutputFd}; any
 * failure (a full disk, a FIFO nobody reads) is a {@link UsageError} naming it as `what`:
 * `cannot write --save-schedule file FILE: why` (`what` = "--save-schedule file").
 */
export function writeOutputFile(
  what: string,
  file: string,
  text: string,
  io: Pick<CliIo, "cwd" | "env" | "progress">,
): void {
  try {
    const fd = openOutputFd(path.resolve(io.cwd, file), io);
    try {
      fs.writeFileSync(fd, text);
    } finally {
      fs.closeSync(fd);
    }
  } catch (e) {
    throw new UsageError(`cannot write ${what} ${file}: ${(e as Error).message}`);
  }
}
