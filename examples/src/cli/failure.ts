import * as fs from "node:fs";
import * as path from "node:path";
import {
  InvalidArgumentError,
  InvalidStepError,
  ModuleLoadTimeoutError,
  SimulationError,
  SmpcallError,
  UsageError,
  UserCodeError,
  describeThrown,
  listArchNames,
} from "@smpcall/core";

/** Exit status: the input or a run is fine. */
export const EXIT_OK = 0;
/** Exit status: a run found a problem, or user code (backend, scenario, program) is wrong. */
export const EXIT_PROBLEM = 1;
/** Exit status: bad command-line input (one line naming the flag and what is accepted). */
export const EXIT_USAGE = 2;
/** Exit status for a crash (a bug in smpcall, not in the user's input or code). */
export const EXIT_INTERNAL = 70;

/** User modules this invocation loaded (`scenario module ./x.js`): named when their code fails. */
const userModules: string[] = [];

/** Note a user module loaded by this invocation (the CLI names it when code without a backend label fails). */
export function noteUserModule(label: string): void {
  if (!userModules.includes(label)) userModules.push(label);
}

/** Forget the modules of the previous invocation (main() calls it first). */
export function resetUserModules(): void {
  userModules.length = 0;
}

/** What the CLI prints and returns for an error that ended a command. */
export interface Failure {
  readonly code: number;
  /** Text for stderr, ending in a newline: one line, plus the stack when SMPCALL_DEBUG=1. */
  readonly text: string;
}

/**
 * A usage error's message as the one line it must be: the values it quotes come from the command
 * line, the environment or a file (`--arch $'x\ny'`, a name holding an escape sequence), so a
 * line break or another control character in them is written as an escape (`\n`, `\x1b`)
 * rather than breaking the line or reaching the terminal.
 */
export function oneLine(message: string): string {
  // eslint-disable-next-line no-control-regex -- control characters are what it looks for
  return message.replace(/[\x00-\x08\x0a-\x1f\x7f-\x9f]/g, (c) =>
    c === "\n" ? "\\n" : c === "\r" ? "\\r" : `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`,
  );
}

/**
 * Sort an error that escaped a command into usage (2), user code or run problem (1) and smpcall's
 * own bugs (70). Code is "smpcall's own" when its file lies in the dist/ or src/ of an @smpcall
 * package; anything else on the stack (a backend or scenario module, a port) is user code.
 */
export function classifyFailure(e: unknown, env: NodeJS.ProcessEnv, cwd: string): Failure {
  const debug = env.SMPCALL_DEBUG === "1";
  const stack = (x: unknown): string =>
    debug && x instanceof Error && stackOf(x) ? `${stackOf(x).split("\n").slice(1).join("\n")}\n` : "";
  const line = (code: number, msg: string, shown: unknown = e): Failure => ({
    code,
    text: `smpcall: ${msg}\n${stack(shown)}`,
  });
  if (e instanceof UsageError) return line(EXIT_USAGE, oneLine(e.message));
  // The user's module never finished loading in a worker: its code is wrong, as for a load hang.
  if (e instanceof ModuleLoadTimeoutError) return line(EXIT_PROBLEM, e.message);
  if (e instanceof SimulationError) {
    const blame =
      e instanceof InvalidStepError && !e.culprit.startsWith("backend") && userModules.length > 0
        ? ` [user code: ${userModules.join(", ")}]`
        : "";
    return line(EXIT_PROBLEM, e.message + blame);
  }
  if (e instanceof UserCodeError) {
    const cause = e.cause;
    // Node's own errors (a `code` such as ERR_REQUIRE_ASYNC_MODULE for a module with top-level
    // await) are about the user's module or input even when smpcall's require() is the frame.
    const own =
      cause instanceof Error &&
      !(cause instanceof SmpcallError) &&
      !(cause instanceof SyntaxError) &&
      typeof (cause as NodeJS.ErrnoException).code !== "string" &&
      firstFrameIsOwn(cause);
    if (own) return internal(cause, e.message);
    const where =
      cause instanceof SyntaxError
        ? syntaxErrorAt(cause, cwd)
        : cause instanceof Error
          ? userFrame(cause, cwd)
          : null;
    // A throw of a non-Error (no stack) from code without a backend label: name the modules loaded.
    const blame =
      where === null &&
      !e.culprit.startsWith("backend") &&
      !e.message.includes("module") &&
      userModules.length > 0
        ? ` [user code: ${userModules.join(", ")}]`
        : "";
    return line(
      EXIT_PROBLEM,
      `${e.message}${where && !e.message.includes(where.text) ? ` (at ${where.text})` : ""}${blame}`,
      cause ?? e,
    );
  }
  if (e instanceof InvalidArgumentError) {
    const where = userFrame(e, cwd);
    if (where) return line(EXIT_PROBLEM, `${where.file}: ${e.message} (at ${where.text})`);
    return internal(e, e.message);
  }
  if (e instanceof SmpcallError) return line(EXIT_PROBLEM, e.message);
  if (e instanceof Error && !firstFrameIsOwn(e)) {
    const where = userFrame(e, cwd);
    if (where) return line(EXIT_PROBLEM, `${where.file} threw ${describeThrown(e)} (at ${where.text})`);
  }
  return internal(e, describeThrown(e));
}

/**
 * An error's stack as text ("" when it has none): user code can throw an Error whose `stack` is
 * not a string, or a getter that throws, and naming it must not crash the CLI.
 */
function stackOf(e: Error): string {
  try {
    const s: unknown = e.stack;
    return typeof s === "string" ? s : "";
  } catch {
    return "";
  }
}

function internal(e: unknown, msg: string): Failure {
  const st = e instanceof Error && stackOf(e) ? stackOf(e) : msg;
  return {
    code: EXIT_INTERNAL,
    text: `smpcall: internal error (a bug in smpcall, please report it): ${st}\n`,
  };
}

/** The files of a stack trace, innermost first (node's own frames left out). */
function stackFiles(e: Error): { file: string; line: string }[] {
  const out: { file: string; line: string }[] = [];
  for (const l of stackOf(e).split("\n").slice(1)) {
    const m = /(?:\(|^at )((?:\/|[A-Za-z]:\\)[^()]*?):(\d+):(\d+)\)?$/.exec(l.trim());
    if (m) out.push({ file: m[1], line: `${m[2]}:${m[3]}` });
  }
  return out;
}

function firstFrameIsOwn(e: Error): boolean {
  const files = stackFiles(e);
  return files.length > 0 && isOwnFile(files[0].file);
}

/**
 * Where a module that failed to compile is wrong: Node puts `file:line` on the first line of a
 * SyntaxError's stack (the file is not among the frames).
 */
function syntaxErrorAt(e: SyntaxError, cwd: string): { file: string; text: string } | null {
  const m = /^((?:\/|[A-Za-z]:\\)[^\n]*?):(\d+)$/.exec(stackOf(e).split("\n")[0]);
  if (!m) return null;
  const file = relativeToCwd(m[1], cwd);
  return { file, text: `${file}:${m[2]}` };
}

function relativeToCwd(file: string, cwd: string): string {
  const rel = path.relative(cwd, file);
  return !rel.startsWith("..") && !path.isAbsolute(rel) ? `./${rel}` : file;
}

/** The innermost frame outside smpcall's own code: the user's module that threw or called wrongly. */
function userFrame(e: Error, cwd: string): { file: string; text: string } | null {
  for (const f of stackFiles(e)) {
    if (isOwnFile(f.file) || f.file.includes(`${path.sep}node_modules${path.sep}`)) continue;
    const rel = relativeToCwd(f.file, cwd);
    return { file: rel, text: `${rel}:${f.line}` };
  }
  return null;
}

let ownDirs: string[] | null = null;

/** Is `file` part of smpcall itself (the dist/ or src/ of core, examples or an installed backend package)? */
function isOwnFile(file: string): boolean {
  ownDirs ??= computeOwnDirs();
  return ownDirs.some((d) => file.startsWith(d));
}

function computeOwnDirs(): string[] {
  const roots = new Set<string>([path.resolve(__dirname, "..", "..")]);
  const pkgRoot = (name: string): void => {
    try {
      roots.add(path.dirname(fs.realpathSync(require.resolve(`${name}/package.json`))));
      return;
    } catch {
      // no package.json export (or a test runner that maps the package to its sources): below
    }
    try {
      // The package's entry point, then up to the folder that holds its package.json.
      let dir = path.dirname(fs.realpathSync(require.resolve(name)));
      while (!fs.existsSync(path.join(dir, "package.json")) && path.dirname(dir) !== dir)
        dir = path.dirname(dir);
      roots.add(dir);
    } catch {
      // not installed: nothing of it can be on a stack
    }
  };
  pkgRoot("@smpcall/core");
  for (const a of listArchNames()) pkgRoot(`@smpcall/arch-${a}`);
  const dirs: string[] = [];
  for (const r of roots) for (const sub of ["dist", "src"]) dirs.push(path.join(r, sub) + path.sep);
  return dirs;
}
