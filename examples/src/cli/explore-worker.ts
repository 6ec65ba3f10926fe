/**
 * A worker thread of `smpcall explore --workers N`: searches subtrees of the split dfs on the
 * state table all workers share, and posts `{ loaded: true }` once its modules are loaded, then
 * its {@link SharedPart} (or the error) to the main thread.
 */
import { parentPort, workerData } from "node:worker_threads";
import {
  describeThrown,
  searchSharedPart,
  stopSharedSearch,
  UsageError,
  type SharedPart,
} from "@smpcall/core";
import { memoryIo } from "./io";
import { exploreBase, type ExploreWorkerData } from "./commands/explore";

const data = workerData as ExploreWorkerData;
try {
  const { base, policies } = exploreBase(data.flags, memoryIo(process.env, data.cwd));
  // Its modules are loaded: the watch on their loading ends (see splitExplore).
  parentPort!.postMessage({ loaded: true });
  const part: SharedPart = searchSharedPart({ ...base, policy: policies[0] }, data.shared, data.subtrees);
  parentPort!.postMessage({ part });
} catch (e) {
  stopSharedSearch(data.shared);
  // A usage error's message is the line the user sees, as in the main thread (no "UsageError: ").
  const usage = e instanceof UsageError;
  parentPort!.postMessage({ error: usage ? e.message : describeThrown(e), usage });
}
