import { UsageError } from "../errors";
import { DEFAULT_PREEMPTION_BOUND, DfsCache, dfsSubtree, faultBoundOf, sharedStateTable } from "./dfs";
import { explore, type ExploreConfig, type ExploreResult } from "./explorer";
import { FingerprintTable } from "./fingerprint-table";
import { splitSearch } from "./shards";

/** Control words of a shared search (an Int32Array over {@link SharedSearch.control}). */
const NEXT = 0; // the next subtree to take
const STOP = 1; // 1: stop (a violation was found, or the schedule limit reached)
const DONE = 2; // subtrees searched to the end
const SCHEDULES = 3; // schedules run, all workers
const VIOLATION = 4; // 1: some worker found a violation
const CONTROL_WORDS = 8;

/** What the workers of one dfs search share (passed to each worker thread as is). */
export interface SharedSearch {
  /** The state table ({@link FingerprintTable} over a SharedArrayBuffer). */
  readonly table: SharedArrayBuffer;
  /** Which subtree comes next, the stop flag and the counts. */
  readonly control: SharedArrayBuffer;
}

/** Room for this many states in a shared table unless told otherwise (about 100-200 MB). */
export const DEFAULT_SHARED_STATES = 6_000_000;

/**
 * The shared buffers of a dfs search of `cfg` by several workers, with room for `states`
 * distinct states (a shared table cannot grow; it refuses states past its room with a message).
 */
export function sharedSearch(
  cfg: Pick<ExploreConfig, "cpus" | "preemptionBound">,
  states = DEFAULT_SHARED_STATES,
): SharedSearch {
  return {
    table: sharedStateTable(cfg, states),
    control: new SharedArrayBuffer(CONTROL_WORDS * 4),
  };
}

/** How far a shared search has got (read while the workers run: for progress reports). */
export function sharedProgress(shared: SharedSearch): {
  schedules: number;
  states: number;
  subtreesDone: number;
} {
  const ctl = new Int32Array(shared.control);
  return {
    schedules: Atomics.load(ctl, SCHEDULES),
    states: new FingerprintTable(shared.table).size,
    subtreesDone: Atomics.load(ctl, DONE),
  };
}

/** Tell every worker of a shared search to stop (a worker failed: the search cannot be complete). */
export function stopSharedSearch(shared: SharedSearch): void {
  Atomics.store(new Int32Array(shared.control), STOP, 1);
}

/** What one worker of a shared search did. */
export interface SharedPart {
  readonly schedules: number;
  /** Subtrees this worker searched to the end. */
  readonly subtreesDone: number;
  /** Over its completed runs that issued calls: the sum of IPIs per call, of ns serialised, and how many. */
  readonly ipisPerCallSum: number;
  readonly serialisedNsSum: number;
  readonly counted: number;
}

/**
 * One worker's part of a dfs search of `cfg` shared through `shared`: takes the next subtree of
 * {@link splitSearch} not yet taken (an atomic counter), searches it on the shared state table —
 * skipping every state any worker has met — and goes on until none is left, a worker found a
 * violation or the schedule limit is reached. The states on a subtree's root prefix are stored
 * too (not pruned: the subtrees below them cover their futures), so the table ends with exactly
 * the states a single search meets. `maxSubtrees` bounds how many subtrees this call takes (a
 * test interleaves workers in one thread with it).
 */
export function searchSharedPart(
  cfg: ExploreConfig,
  shared: SharedSearch,
  subtrees: readonly (readonly number[])[] = splitSearch(cfg),
  maxSubtrees = Number.POSITIVE_INFINITY,
  cache: DfsCache = new DfsCache(cfg, new FingerprintTable(shared.table)),
): SharedPart {
  if (cfg.strategy !== "dfs") throw new UsageError("--workers splits the dfs strategy only");
  const ctl = new Int32Array(shared.control);
  const stop = () => Atomics.load(ctl, STOP) !== 0;
  let schedules = 0;
  let done = 0;
  let ipis = 0;
  let serialised = 0;
  let counted = 0;
  for (let taken = 0; taken < maxSubtrees && !stop(); taken++) {
    const j = Atomics.add(ctl, NEXT, 1);
    if (j >= subtrees.length) break;
    const out = dfsSubtree(
      cfg,
      subtrees[j],
      cache,
      Number.MAX_SAFE_INTEGER,
      (run) => {
        if (run !== null && run.ctx.ledger.size > 0) {
          ipis += run.system.kernel.stats.ipiTargets / run.ctx.ledger.size;
          serialised += run.ctx.runtime.serialisedNs;
          counted++;
        }
        if (Atomics.add(ctl, SCHEDULES, 1) + 1 >= cfg.runs) Atomics.store(ctl, STOP, 1);
      },
      stop,
      true,
    );
    schedules += out.schedules;
    if (out.violation) {
      Atomics.store(ctl, VIOLATION, 1);
      Atomics.store(ctl, STOP, 1);
      break;
    }
    if (!out.complete) break;
    done++;
    Atomics.add(ctl, DONE, 1);
  }
  return { schedules, subtreesDone: done, ipisPerCallSum: ipis, serialisedNsSum: serialised, counted };
}

/**
 * The result of a shared search once every worker has returned: complete only if every subtree
 * was searched to the end; distinct states from the shared table. When some worker found a
 * violation, the counterexample is the one the single-threaded search finds first (it is run
 * again, alone, to its first violation), so what is printed does not depend on how many
 * workers ran or how their threads interleaved.
 */
export function finishSharedSearch(
  cfg: ExploreConfig,
  shared: SharedSearch,
  parts: readonly SharedPart[],
  subtrees: number,
  ms: number,
): ExploreResult {
  const ctl = new Int32Array(shared.control);
  const schedules = parts.reduce((a, p) => a + p.schedules, 0);
  const states = new FingerprintTable(shared.table).size;
  if (Atomics.load(ctl, VIOLATION) !== 0) {
    const t0 = performance.now();
    const seq = explore({ ...cfg, onProgress: undefined });
    return {
      ...seq,
      schedules: schedules + seq.schedules,
      distinctStates: states,
      ms: Math.round(ms + performance.now() - t0),
    };
  }
  const counted = parts.reduce((a, p) => a + p.counted, 0);
  const ipis = parts.reduce((a, p) => a + p.ipisPerCallSum, 0);
  const serialised = parts.reduce((a, p) => a + p.serialisedNsSum, 0);
  const bound = cfg.preemptionBound ?? DEFAULT_PREEMPTION_BOUND;
  return {
    scenario: cfg.scenario.name,
    policy: cfg.policy.name,
    strategy: "dfs",
    cpus: cfg.cpus,
    calls: cfg.calls,
    schedules,
    distinctStates: states,
    complete: Atomics.load(ctl, DONE) === subtrees,
    preemptionBound: Number.isFinite(bound) ? bound : null,
    faultBound: Number.isFinite(faultBoundOf(cfg)) ? faultBoundOf(cfg) : null,
    ms: Math.round(ms),
    violation: null,
    ipisPerCall: counted ? Math.round((ipis / counted) * 100) / 100 : 0,
    serialisedNs: counted ? Math.round(serialised / counted) : 0,
  };
}
