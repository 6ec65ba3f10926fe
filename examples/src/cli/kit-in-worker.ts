import * as fs from "node:fs";
import * as path from "node:path";
import { Worker } from "node:worker_threads";
import { ModuleLoadTimeoutError } from "@smpcall/core";
import type { ConformanceOptions, ConformanceResult } from "@smpcall/core/conformance";
import { STALL_TIMEOUT_ENV } from "./interrupt";

/** The kit's options that cross to the worker (no callbacks). */
export type KitRunOptions = Omit<ConformanceOptions, "onCheckStart" | "onResult">;

/** What the kit's worker needs: where the backend is and the kit's options. */
export interface KitWorkerInput {
  /** A backend name or module path, as `loadArch` takes it. */
  readonly archSpec: string;
  readonly cwd: string;
  readonly options: KitRunOptions;
}

/** A message from the kit's worker. */
export type KitWorkerMessage =
  | { kind: "loaded" }
  | { kind: "start"; name: string }
  | { kind: "result"; result: ConformanceResult }
  | { kind: "end" };

/** The compiled worker script (next to this file in dist/; from src/, as the tests run it, in dist/). */
function workerScript(): string {
  const here = path.join(__dirname, "kit-worker.js");
  if (fs.existsSync(here)) return here;
  return path.join(__dirname, "..", "..", "dist", "cli", "kit-worker.js");
}

/**
 * Run the conformance kit in a worker thread watched from this one. Each worker loads the backend
 * anew (a worker thread has its own modules): a load that does not finish within `loadLimitMs`
 * ($SMPCALL_STALL_TIMEOUT_S for a module path; null for a built-in backend: no watch) — a module
 * whose top-level code loops once it was loaded before, which the command's own load did not
 * show — stops the kit: the promise rejects with a
 * {@link ModuleLoadTimeoutError} naming the module. Once loaded, a check that gives no result
 * within `hardLimitMs` (a backend or callback looping in synchronous code, which the kit's own
 * budgets cannot interrupt: they are checked between events; also code that loops between two
 * checks, which fails the next one) is failed with a message saying so; the worker is stopped and
 * a new one runs the checks after it. A worker that dies fails its check the same way. `checks`
 * are the names to run, in order.
 */
export function runKitInWorker(
  input: KitWorkerInput,
  checks: readonly string[],
  limits: { readonly hardLimitMs: number; readonly loadLimitMs: number | null },
  onCheckStart: (name: string) => void,
  onResult: (result: ConformanceResult) => void,
): Promise<ConformanceResult[]> {
  const { hardLimitMs, loadLimitMs } = limits;
  const results: ConformanceResult[] = [];
  return new Promise((resolve, reject) => {
    const startWorker = (remaining: readonly string[]): void => {
      if (remaining.length === 0) return resolve(results);
      const worker = new Worker(workerScript(), {
        workerData: { ...input, options: { ...input.options, only: remaining } } satisfies KitWorkerInput,
      });
      let running: { name: string; at: number } | null = null;
      /** Results this worker gave: the next check to run is remaining[reported]. */
      let reported = 0;
      let timer: NodeJS.Timeout | null = null;
      let finished = false;
      const arm = (ms: number, onExpire: () => void): void => {
        if (timer !== null) clearTimeout(timer);
        timer = setTimeout(onExpire, ms);
      };
      const fail = (message: string): void => {
        if (finished) return;
        finished = true;
        if (timer !== null) clearTimeout(timer);
        void worker.terminate();
        const name = running?.name ?? remaining[reported];
        // Every check this worker had has its result: only its end was missing.
        if (name === undefined) return resolve(results);
        const result: ConformanceResult = {
          name,
          status: "fail",
          message,
          ms: running === null ? 0 : Date.now() - running.at,
        };
        results.push(result);
        onResult(result);
        startWorker(remaining.slice(remaining.indexOf(name) + 1));
      };
      const noResult = (): void =>
        fail(
          `no result after ${hardLimitMs / 1000} s of wall time: the check's code did not return ` +
            `(synchronous code that never yields, e.g. an endless loop in the backend or a callback, ` +
            `which the kit's event budget cannot stop); the kit stopped it and went on`,
        );
      // Until the worker says the backend is loaded, only the load limit applies.
      if (loadLimitMs !== null)
        arm(loadLimitMs, () => {
          if (finished) return;
          finished = true;
          void worker.terminate();
          const s = loadLimitMs / 1000;
          reject(
            new ModuleLoadTimeoutError(
              `backend module ${input.archSpec} did not finish loading within ${s} s in the conformance kit's worker thread, ` +
                `which loads it anew (the command's own load of it returned): its top-level code is running without returning, ` +
                `e.g. an endless loop that depends on what an earlier load left behind (a global, a file, an environment variable); ` +
                `stopped${results.length > 0 ? ` after ${results.length} check(s)` : " before any check ran"} ` +
                `(make the module's top-level code do the same on every load; ${STALL_TIMEOUT_ENV} sets the limit)`,
              [input.archSpec],
              s,
            ),
          );
        });
      worker.on("message", (m: KitWorkerMessage) => {
        if (finished) return;
        if (m.kind === "loaded") {
          arm(hardLimitMs, noResult);
        } else if (m.kind === "start") {
          running = { name: m.name, at: Date.now() };
          onCheckStart(m.name);
          arm(hardLimitMs, noResult);
        } else if (m.kind === "result") {
          running = null;
          reported++;
          results.push(m.result);
          onResult(m.result);
          arm(hardLimitMs, noResult);
        } else {
          finished = true;
          if (timer !== null) clearTimeout(timer);
          void worker.terminate();
          resolve(results);
        }
      });
      worker.on("error", (e) => fail(`the kit's worker thread died: ${e.message}`));
      worker.on("exit", () => {
        if (!finished) fail("the kit's worker thread exited before the check ended");
      });
    };
    startWorker(checks);
  });
}
