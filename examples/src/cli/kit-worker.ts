/** The worker thread of {@link runKitInWorker}: runs the conformance kit and posts each check's start and result. */
import "reflect-metadata";
import { parentPort, workerData } from "node:worker_threads";
import { loadArch } from "@smpcall/core";
import { runConformance } from "@smpcall/core/conformance";
import type { KitWorkerInput, KitWorkerMessage } from "./kit-in-worker";

const input = workerData as KitWorkerInput;
const port = parentPort!;
const descriptor = loadArch(input.archSpec, input.cwd);
// The backend loaded in this thread too: the watch on its loading ends (see runKitInWorker).
port.postMessage({ kind: "loaded" } satisfies KitWorkerMessage);
runConformance(descriptor, {
  ...input.options,
  onCheckStart: (c) => port.postMessage({ kind: "start", name: c.name } satisfies KitWorkerMessage),
  onResult: (result) => port.postMessage({ kind: "result", result } satisfies KitWorkerMessage),
});
port.postMessage({ kind: "end" } satisfies KitWorkerMessage);
