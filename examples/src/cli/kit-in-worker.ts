import * as fs from "node:fs";
import * as path from "node:path";
import { Worker } from "node:worker_threads";
import type { ConformanceOptions, ConformanceResult } from "@smpcall/core/conformance";

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
  { kind: "start"; name: string } | { kind: "result"; result: ConformanceResult } | { kind: "end" };

/** The compiled worker script (next to this file in dist/; from src/, as the tests run it, in dist/). */
function workerScript(): string {
  const here = path.join(__dirname, "kit-worker.js");
  if (fs.existsSync(here)) return here;
  return path.join(__dirname, "..", "..", "dist", "cli", "kit-worker.js");
}

/**
 * Run the conformance kit in a worker thread watched from this one. A check that gives no
 * result within `hardLimitMs` (a backend or callback looping in synchronous code, which the kit's
 * own budgets cannot interrupt: they are checked between events) is failed with a message saying
 * so; the worker is stopped and a new one runs the checks after it. A worker that dies fails its
 * check the same way. `checks` are the names to run, in order.
 */
export function runKitInWorker(
  input: KitWorkerInput,
  checks: readonly string[],
  hardLimitMs: number,
  onCheckStart: (name: string) => void,
  onResult: (result: ConformanceResult) => void,
): Promise<ConformanceResult[]> {
  const results: ConformanceResult[] = [];
  return new Promise((resolve) => {
    const startWorker = (remaining: readonly string[]): void => {
      if (remaining.length === 0) return resolve(results);
      const worker = new Worker(workerScript(), {
        workerData: { ...input, options: { ...input.options, only: remaining } } satisfies KitWorkerInput,
      });
      let running: { name: string; at: number } | null = null;
      let timer: NodeJS.Timeout | null = null;
      let finished = false;
      const fail = (message: string): void => {
        if (finished) return;
        finished = true;
        if (timer !== null) clearTimeout(timer);
        void worker.terminate();
        const name = running?.name ?? remaining[0];
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
      worker.on("message", (m: KitWorkerMessage) => {
        if (m.kind === "start") {
          running = { name: m.name, at: Date.now() };
          onCheckStart(m.name);
          if (timer !== null) clearTimeout(timer);
          timer = setTimeout(
            () =>
              fail(
                `no result after ${hardLimitMs / 1000} s of wall time: the check's code did not return ` +
                  `(synchronous code that never yields, e.g. an endless loop in the backend or a callback, ` +
                  `which the kit's event budget cannot stop); the kit stopped it and went on`,
              ),
            hardLimitMs,
          );
        } else if (m.kind === "result") {
          if (timer !== null) clearTimeout(timer);
          timer = null;
          running = null;
          results.push(m.result);
          onResult(m.result);
        } else {
          finished = true;
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
