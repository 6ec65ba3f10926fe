/** The worker thread of {@link runInWorker}: runs one CLI command, reports progress and its exit status to the main thread. */
import "reflect-metadata";
import * as fs from "node:fs";
import { parentPort, workerData } from "node:worker_threads";
import type { CliIo } from "./io";
import { WORKER_READER_GONE, type WorkerInput, type WorkerMessage } from "./interrupt";
import { main } from "./main";

const input = workerData as WorkerInput;
const port = parentPort!;

/** Write all of `text` to file descriptor `fd` now (retrying while a non-blocking fd is full). */
function writeAll(fd: number, text: string): void {
  let buf = Buffer.from(text, "utf8");
  while (buf.length > 0) {
    try {
      buf = buf.subarray(fs.writeSync(fd, buf));
    } catch (e) {
      // A reader that went away (`smpcall run | head`): end quietly, as the main thread does.
      if ((e as NodeJS.ErrnoException).code === "EPIPE") process.exit(WORKER_READER_GONE);
      if ((e as NodeJS.ErrnoException).code !== "EAGAIN") throw e;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
    }
  }
}

// A worker's process.stdout/stderr forward to the main thread only when the worker's own event
// loop turns, which a synchronous simulation never lets happen: write to the process's file
// descriptors directly instead, and let the progress bars see the terminal they draw on.
for (const [stream, fd] of [
  [process.stdout, 1],
  [process.stderr, 2],
] as const) {
  Object.assign(stream, {
    isTTY: fd === 1 ? input.isTTY : input.stderrIsTTY,
    columns: input.columns,
    write(chunk: string | Uint8Array, ...rest: unknown[]): boolean {
      writeAll(fd, typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8"));
      const cb = rest.find((r) => typeof r === "function") as (() => void) | undefined;
      cb?.();
      return true;
    },
  });
}

const io: CliIo = {
  out: (t) => writeAll(1, t),
  err: (t) => writeAll(2, t),
  isTTY: input.isTTY,
  env: process.env,
  cwd: process.cwd(),
  setExitCode: () => {},
  progress: (summary) => port.postMessage({ kind: "progress", summary } satisfies WorkerMessage),
  loaded: () => port.postMessage({ kind: "loaded" } satisfies WorkerMessage),
};
void main(input.argv, io).then((code) => port.postMessage({ kind: "done", code } satisfies WorkerMessage));
