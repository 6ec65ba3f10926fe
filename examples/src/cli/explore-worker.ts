/**
 * A worker thread of `smpcall explore --workers N`: searches one shard of the split dfs and
 * posts its {@link ShardResult} (or the error) to the main thread.
 */
import { parentPort, workerData } from "node:worker_threads";
import { describeThrown, exploreShard, type ShardResult } from "@smpcall/core";
import { memoryIo } from "./io";
import { exploreBase, lowerStop, type ExploreWorkerData } from "./commands/explore";

const data = workerData as ExploreWorkerData;
const stop = new Int32Array(data.stop);
try {
  const { base, policies } = exploreBase(data.flags, memoryIo(process.env, data.cwd));
  const result: ShardResult = exploreShard({ ...base, policy: policies[0] }, data.shard, data.shards, () =>
    Atomics.load(stop, 0),
  );
  if (result.violation) lowerStop(stop, result.violation.subtree);
  parentPort!.postMessage({ result });
} catch (e) {
  parentPort!.postMessage({ error: describeThrown(e) });
}
