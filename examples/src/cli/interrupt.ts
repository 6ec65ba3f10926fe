import * as path from "node:path";
import { Worker, isMainThread } from "node:worker_threads";

/** The long-running commands that Ctrl-C can interrupt cleanly (on a terminal). */
export const INTERRUPTIBLE_COMMANDS: readonly string[] = ["run", "explore", "conform", "bench"];

/** Exit status after Ctrl-C: 128 + SIGINT, as shells report it. */
export const EXIT_INTERRUPTED = 130;

/** Show the cursor again and turn line wrap back on (progress bars hide one and turn off the other). */
export const RESTORE_TERMINAL = "\x1b[?25h\x1b[?7h";

/** A message from the worker running the command. */
export type WorkerMessage = { kind: "progress"; summary: string } | { kind: "done"; code: number };

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

/**
 * Run this command in a worker thread, so that Ctrl-C can stop it? Only for the long commands,
 * on a terminal, from the main thread. The simulation runs synchronously: while it runs, a
 * signal handler on the same thread could not run before it ends.
 */
export function wantsWorker(argv: readonly string[]): boolean {
  return (
    isMainThread &&
    INTERRUPTIBLE_COMMANDS.includes(argv[0] ?? "") &&
    !argv.includes("--help") &&
    !argv.includes("-h") &&
    (process.stdout.isTTY === true || process.stderr.isTTY === true)
  );
}

/**
 * Run the CLI with `argv` in a worker thread; this thread stays free for SIGINT. On Ctrl-C the
 * worker is stopped, the terminal restored (cursor, line wrap), what was done so far printed
 * (the command's last progress summary) and the process exits 130.
 */
export function runInWorker(argv: readonly string[]): void {
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
  worker.on("message", (m: WorkerMessage) => {
    if (m.kind === "progress") summary = m.summary;
    else {
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
    process.off("SIGINT", onSigint);
    // Without a "done" message the worker ended itself (its reader went away: 0) or crashed.
    if (!interrupted) process.exitCode = code ?? workerExitCode;
  });
}
