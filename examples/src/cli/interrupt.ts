import * as path from "node:path";
import { Worker, isMainThread } from "node:worker_threads";
import { UsageError, isModulePath } from "@smpcall/core";

/** The long-running commands that Ctrl-C can interrupt cleanly (on a terminal). */
export const INTERRUPTIBLE_COMMANDS: readonly string[] = ["run", "explore", "conform", "bench"];

/** Exit status after Ctrl-C: 128 + SIGINT, as shells report it. */
export const EXIT_INTERRUPTED = 130;

/**
 * The status the command's worker thread exits with when the reader of its output went away
 * (`smpcall run | head`): the CLI then ends quietly with 0, as Unix tools do. Any other exit
 * without a result is code it ran calling `process.exit` (a backend or scenario module).
 */
export const WORKER_READER_GONE = 141;

/** Show the cursor again and turn line wrap back on (progress bars hide one and turn off the other). */
export const RESTORE_TERMINAL = "\x1b[?25h\x1b[?7h";

/** Environment variable: seconds without progress after which a command running user code is stopped (default 60). */
export const STALL_TIMEOUT_ENV = "SMPCALL_STALL_TIMEOUT_S";

/** Default of {@link STALL_TIMEOUT_ENV}. */
const DEFAULT_STALL_TIMEOUT_S = 60;

/** The value of `--name V` or `--name=V` in `argv`. */
function optionValue(argv: readonly string[], name: string): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === name) return argv[i + 1];
    if (argv[i].startsWith(`${name}=`)) return argv[i].slice(name.length + 1);
  }
  return undefined;
}

/**
 * Does this command run code from the user's own modules (a backend or scenario by path, or a
 * replay, whose schedule may name one)? Such code may loop without ever yielding, which no
 * event budget can stop: the command then runs in a watched worker (see {@link runInWorker}).
 */
export function runsUserCode(argv: readonly string[], env: NodeJS.ProcessEnv): boolean {
  const cmd = argv[0] ?? "";
  if (!WATCHED_COMMANDS.includes(cmd)) return false;
  if (cmd === "replay") return true;
  const arch = optionValue(argv, "--arch") ?? env.SMPCALL_ARCH;
  return (arch !== undefined && isModulePath(arch)) || isModulePath(optionValue(argv, "--scenario") ?? "");
}

/**
 * Commands that can run user modules and report progress while they run, and `archs`, which
 * reports none but only loads and describes a module: quick, unless the module never returns.
 * `conform` is watched only while it loads the backend (see {@link LOAD_WATCHED_COMMANDS}).
 */
const WATCHED_COMMANDS: readonly string[] = ["run", "explore", "bench", "replay", "archs", "conform"];

/**
 * Commands watched only until their modules are loaded (`io.loaded()`): `conform` runs each
 * check in the kit's own watched worker, under `--check-timeout`, which may be longer than the
 * stall limit; only the loading of the backend, before the kit starts, needs this watch.
 */
const LOAD_WATCHED_COMMANDS: readonly string[] = ["conform"];

/**
 * How {@link runInWorker} watches `argv`'s command: null when it runs no user code, else with
 * the limit of {@link stallTimeoutS} (throws its UsageError), on the loading only for the
 * commands of {@link LOAD_WATCHED_COMMANDS}.
 */
export function stallWatchFor(argv: readonly string[], env: NodeJS.ProcessEnv): StallWatch | null {
  if (!runsUserCode(argv, env)) return null;
  const timeoutMs = stallTimeoutS(env) * 1000;
  if (!LOAD_WATCHED_COMMANDS.includes(argv[0] ?? "")) return { timeoutMs };
  return { timeoutMs, loading: optionValue(argv, "--arch") ?? env.SMPCALL_ARCH ?? "" };
}

/** The longest stall limit: what a Node.js timer can wait (2^31 - 1 ms), in whole seconds. */
const MAX_STALL_TIMEOUT_S = Math.floor((2 ** 31 - 1) / 1000);

/**
 * Seconds without progress before a watched command is stopped: $SMPCALL_STALL_TIMEOUT_S (whole
 * seconds, 1..2147483), else 60. Throws a {@link UsageError} for any other value: a typo must not
 * fall back to the default without a word, nor overflow the timer into stopping at once.
 */
export function stallTimeoutS(env: NodeJS.ProcessEnv): number {
  const v = env[STALL_TIMEOUT_ENV];
  if (v === undefined) return DEFAULT_STALL_TIMEOUT_S;
  const n = /^\d+$/.test(v.trim()) ? Number(v) : NaN;
  if (!(n >= 1 && n <= MAX_STALL_TIMEOUT_S))
    throw new UsageError(
      `bad $${STALL_TIMEOUT_ENV} ${JSON.stringify(v)}: give whole seconds without progress, 1..${MAX_STALL_TIMEOUT_S} (unset: ${DEFAULT_STALL_TIMEOUT_S})`,
    );
  return n;
}

/** A message from the worker running the command. */
export type WorkerMessage =
  { kind: "progress"; summary: string } | { kind: "loaded" } | { kind: "done"; code: number };

/** What the worker needs to run the command as the main thread would. */
export interface WorkerInput {
  readonly argv: readonly string[];
  /** Standard output of the real process is a terminal (progress bars only then). */
  readonly isTTY: boolean;
  /** Standard error (where the bars draw) is a terminal. */
  readonly stderrIsTTY: boolean;
  /** The terminal's width, for the progress bars. */
  readonly columns: number;
}

/** How {@link runInWorker} watches the worker: stop it after this long without a message (null: never). */
export interface StallWatch {
  readonly timeoutMs: number;
  /**
   * Watch only the loading of this backend module (`--arch` or $SMPCALL_ARCH): the watch ends
   * when the command says its modules are loaded (`io.loaded()`), and progress does not renew it.
   */
  readonly loading?: string;
}

/**
 * Run this command in a worker thread, so that Ctrl-C can stop it? Only for the long commands,
 * on a terminal, from the main thread. The simulation runs synchronously: while it runs, a
 * signal handler on the same thread could not run before it ends.
 */
export function wantsWorker(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): boolean {
  return (
    isMainThread &&
    !argv.includes("--help") &&
    !argv.includes("-h") &&
    ((INTERRUPTIBLE_COMMANDS.includes(argv[0] ?? "") &&
      (process.stdout.isTTY === true || process.stderr.isTTY === true)) ||
      runsUserCode(argv, env))
  );
}

/**
 * Run the CLI with `argv` in a worker thread; this thread stays free for SIGINT. On Ctrl-C the
 * worker is stopped, the terminal restored (cursor, line wrap), what was done so far printed
 * (the command's last progress summary) and the process exits 130. `onEnd` (optional) is called
 * with the exit status once the worker has ended (the bench's child process reports it so).
 */
export function runInWorker(
  argv: readonly string[],
  stall: StallWatch | null,
  onEnd?: (code: number) => void,
): void {
  const input: WorkerInput = {
    argv,
    isTTY: process.stdout.isTTY === true,
    stderrIsTTY: process.stderr.isTTY === true,
    columns: process.stderr.columns ?? process.stdout.columns ?? 80,
  };
  const worker = new Worker(path.join(__dirname, "worker.js"), { workerData: input });
  let summary = "";
  let code: number | null = null;
  let interrupted = false;
  const onSigint = (): void => {
    interrupted = true;
    void worker.terminate();
    process.stderr.write(
      `${RESTORE_TERMINAL}\nsmpcall: interrupted${summary !== "" ? `: ${summary}` : " before any progress was reported"}\n`,
    );
    process.exitCode = EXIT_INTERRUPTED;
  };
  process.once("SIGINT", onSigint);
  // A command running user code must show progress: a module looping in synchronous code (no
  // yield, so no event budget applies) would otherwise hang the process for ever.
  let stallTimer: NodeJS.Timeout | null = null;
  let watching = stall !== null;
  const watch = (): void => {
    if (stall === null || !watching) return;
    if (stallTimer !== null) clearTimeout(stallTimer);
    stallTimer = setTimeout(() => {
      interrupted = true;
      process.off("SIGINT", onSigint);
      void worker.terminate();
      process.stderr.write(
        `${process.stderr.isTTY ? RESTORE_TERMINAL : ""}smpcall: ` +
          (stall.loading !== undefined
            ? `backend module ${stall.loading} did not finish loading within ${stall.timeoutMs / 1000} s: ` +
              `its top-level code is running without returning, e.g. an endless loop; stopped before any check ran ` +
              `(fix the module; ${STALL_TIMEOUT_ENV} sets the limit)\n`
            : `no progress for ${stall.timeoutMs / 1000} s (${summary !== "" ? summary : "before any progress was reported"}): ` +
              `code from your module (--arch or --scenario PATH, or the schedule's) is running without returning, ` +
              `e.g. an endless loop that never yields; stopped (${STALL_TIMEOUT_ENV} sets the limit)\n`),
      );
      process.exitCode = 1;
    }, stall.timeoutMs);
  };
  watch();
  worker.on("message", (m: WorkerMessage) => {
    if (stall?.loading === undefined) watch();
    if (m.kind === "progress") summary = m.summary;
    else if (m.kind === "loaded") {
      // The command watches its modules' code itself from here (conform: --check-timeout).
      if (stall?.loading === undefined) return;
      if (stallTimer !== null) clearTimeout(stallTimer);
      stallTimer = null;
      watching = false;
    } else {
      if (stallTimer !== null) clearTimeout(stallTimer);
      // The command has finished and written its output: a late Ctrl-C is no interruption.
      code = m.code;
      process.off("SIGINT", onSigint);
    }
  });
  worker.on("error", (e) => {
    process.stderr.write(`smpcall: internal error: ${e.stack ?? String(e)}\n`);
    code = 70;
  });
  worker.on("exit", (workerExitCode) => {
    if (stallTimer !== null) clearTimeout(stallTimer);
    process.off("SIGINT", onSigint);
    // Without a "done" message the worker ended itself: its reader went away (quietly 0), or
    // code it ran called process.exit (a module's process.exit(0) must not read as a clean run).
    if (!interrupted) {
      if (code !== null) process.exitCode = code;
      else if (workerExitCode === WORKER_READER_GONE) process.exitCode = 0;
      else {
        process.stderr.write(
          `smpcall: the command ended without a result: code it ran called process.exit(${workerExitCode}) ` +
            `(a backend or scenario module? it must return or throw, never exit the process); no verdict\n`,
        );
        process.exitCode = 1;
      }
    }
    onEnd?.(Number(process.exitCode ?? 0));
  });
}
