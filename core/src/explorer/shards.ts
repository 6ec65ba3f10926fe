import { SmpcallError, UsageError, describeValue } from "../errors";
import { PruneRun, ReplayChooser } from "./choosers";
import type { ScenarioContext } from "./scenario";
import { DEFAULT_PREEMPTION_BOUND, DfsCache, dfsSubtree, faultBoundOf } from "./dfs";
import {
  runEnd,
  runScenario,
  scheduleFaultBound,
  scheduleString,
  type ExploreConfig,
  type Violation,
} from "./explorer";
import { decodeSchedule, encodeSchedule } from "./schedule";

/** Subtrees a split search is cut into (fixed, so the cut does not depend on how many shards or workers run it). */
export const SUBTREE_TARGET = 256;

/** The result of one shard of a split dfs search (what `--shard i/n --out FILE` writes). */
export interface ShardResult {
  readonly format: "smpcall-explore-shard";
  /**
   * 3: with `faultBound` (version 2 files come from searches without a fault bound; version 1
   * left the states on the subtrees' root prefixes out of `distinctStates`).
   */
  readonly version: 3;
  /** What was searched: the schedule string of the empty schedule (scenario, policy, arch, CPUs, calls, ...). */
  readonly run: string;
  readonly preemptionBound: number | null;
  /** Injected faults per schedule the search allowed (null: unbounded). */
  readonly faultBound: number | null;
  readonly symmetry: boolean;
  /** This shard (0-based) and how many there are. */
  readonly shard: number;
  readonly shards: number;
  /** Subtrees of the whole search. */
  readonly subtrees: number;
  /** Subtrees this shard searched to the end. */
  readonly subtreesDone: number;
  readonly schedules: number;
  /**
   * Distinct states this shard met, the states on the root prefixes of the subtrees it searched
   * included (shards do not share states: a state several shards meet counts in each).
   */
  readonly distinctStates: number;
  /** Every subtree of this shard was searched to the end without a violation. */
  readonly complete: boolean;
  /** The first violation, in subtree order, and its subtree; null if none. */
  readonly violation: (Violation & { subtree: number }) | null;
  readonly ms: number;
}

class ProbeStop extends SmpcallError {
  constructor() {
    super("SMPCALL_CONTROL", "prefix probe reached its choice point");
  }
}

/** Runs `prefix`, then stops at the next branching choice point and reports where it was and how many options it had. */
class PrefixProbe extends ReplayChooser {
  /** Index of the branching choice point reached after the prefix, with its options; -1: the run ended first. */
  at = -1;
  branches = 0;
  constructor(
    private readonly fixed: readonly number[],
    preemptionBound: number,
    faultBound: number,
  ) {
    super(fixed, undefined, undefined, preemptionBound, undefined, 0, faultBound);
  }
  protected override decide(n: number, index: number): number {
    if (index < this.fixed.length) return super.decide(n, index);
    this.at = index;
    this.branches = n;
    throw new ProbeStop();
  }
}

/**
 * Replays a subtree's root prefix, storing the state at each of its choice points in the cache
 * (never pruning), and stops where the prefix ends: so a shard counts the states on its
 * subtrees' roots, which its dfs of the subtree replays but does not store.
 */
class RootStates extends ReplayChooser {
  constructor(
    private readonly root: readonly number[],
    stateKey: () => string,
    cache: DfsCache,
    preemptionBound: number,
    faultBound: number,
  ) {
    super(
      root,
      stateKey,
      cache.seen,
      preemptionBound,
      (cpu) => cache.keyer.perm[cpu],
      root.length,
      faultBound,
    );
  }
  protected override decide(n: number, index: number): number {
    if (index >= this.root.length) throw new ProbeStop();
    return super.decide(n, index);
  }
}

/** Store in `cache` the states on the root prefix `root` of a subtree (see {@link RootStates}). */
function storeRootStates(cfg: ExploreConfig, cache: DfsCache, root: readonly number[]): void {
  let ctxRef: ScenarioContext | null = null;
  const chooser = new RootStates(
    root,
    () => cache.keyer.key(ctxRef!),
    cache,
    cfg.preemptionBound ?? DEFAULT_PREEMPTION_BOUND,
    faultBoundOf(cfg),
  );
  try {
    cache.run(cfg, chooser, (c) => (ctxRef = c));
  } catch (e) {
    if (!(e instanceof ProbeStop)) throw e;
  }
}

/**
 * Cut the dfs search of `cfg` into subtrees, in dfs order: prefixes of choices, each the root of
 * the schedules that begin with it, together covering every schedule. Level by level, every
 * prefix is extended by the options of its next branching choice point until there are at least
 * {@link SUBTREE_TARGET} (or no prefix branches further). Deterministic: the same cut for every
 * shard and worker count.
 */
export function splitSearch(cfg: ExploreConfig): number[][] {
  let level: number[][] = [[]];
  /** Prefixes whose run ends without another branching choice (leaves; not probed again). */
  const leaves = new Set<number[]>();
  for (;;) {
    if (level.length >= SUBTREE_TARGET) return level;
    const next: number[][] = [];
    let grew = false;
    for (const p of level) {
      if (leaves.has(p)) {
        next.push(p);
        continue;
      }
      const probe = new PrefixProbe(p, cfg.preemptionBound ?? DEFAULT_PREEMPTION_BOUND, faultBoundOf(cfg));
      try {
        runScenario(cfg, probe);
      } catch (e) {
        if (!(e instanceof ProbeStop) && !(e instanceof PruneRun)) throw e;
      }
      if (probe.at < 0) {
        leaves.add(p);
        next.push(p);
        continue;
      }
      grew = true;
      const head = probe.choices.slice(0, probe.at);
      for (let k = 0; k < probe.branches; k++) next.push([...head, k]);
    }
    if (!grew) return next;
    level = next;
  }
}

/** Parse `--shard i/n` (0 <= i < n <= SUBTREE_TARGET). */
export function parseShard(text: string): { shard: number; shards: number } {
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  const shard = m ? Number(m[1]) : NaN;
  const shards = m ? Number(m[2]) : NaN;
  if (!m || !(shards >= 1 && shards <= SUBTREE_TARGET) || !(shard >= 0 && shard < shards))
    throw new UsageError(
      `bad --shard "${text}": expected i/n with 0 <= i < n <= ${SUBTREE_TARGET} (shard i of n, counting from 0)`,
    );
  return { shard, shards };
}

/**
 * Search shard `shard` of `shards` of the dfs of `cfg`: the subtrees of {@link splitSearch} whose
 * index is `shard` mod `shards`, in order, sharing one state cache. Stops at its first
 * violation, which is then re-found by searching its subtree alone with a fresh cache, so the
 * schedule reported depends only on the subtree, not on what this shard searched before it.
 * `stopAbove()` (workers) returns a subtree index past which another shard already found a
 * violation: subtrees after it are skipped.
 */
export function exploreShard(
  cfg: ExploreConfig,
  shard: number,
  shards: number,
  stopAbove: () => number = () => Number.POSITIVE_INFINITY,
  subtrees: number[][] = splitSearch(cfg),
): ShardResult {
  const t0 = performance.now();
  if (cfg.strategy !== "dfs") throw new UsageError("--shard and --workers split the dfs strategy only");
  const cache = new DfsCache(cfg);
  let schedules = 0;
  let done = 0;
  let complete = true;
  let violation: ShardResult["violation"] = null;
  /** Subtrees this shard entered (their root prefixes were run). */
  const entered: number[] = [];
  for (let j = shard; j < subtrees.length; j += shards) {
    if (j > stopAbove()) {
      complete = false;
      break;
    }
    entered.push(j);
    const fresh = cache.seen.size === 0;
    const before = schedules;
    const out = dfsSubtree(
      cfg,
      subtrees[j],
      cache,
      cfg.runs - schedules,
      // `cfg.onProgress` every 50 schedules, as a whole search reports (a shard may run for hours).
      (_run, n) => {
        if (n % 50 === 0) cfg.onProgress?.(before + n, cfg.runs, cache.seen.size);
      },
      () => j > stopAbove(),
    );
    schedules += out.schedules;
    if (out.violation) {
      let v = out.violation;
      if (!fresh) {
        const again = dfsSubtree(cfg, subtrees[j], new DfsCache(cfg), Number.MAX_SAFE_INTEGER);
        schedules += again.schedules;
        v = again.violation ?? v;
      }
      violation = {
        ...v.run.violation!,
        schedule: scheduleString(cfg, v.choices, runEnd(v.run), scheduleFaultBound(cfg, v.faultChoices)),
        scheduleNumber: schedules,
        ...(v.faultChoices > 0 ? { faults: v.faultsUsed } : {}),
        subtree: j,
      };
      complete = false;
      break;
    }
    if (!out.complete) {
      complete = false;
      break;
    }
    done++;
  }
  // The states on the entered subtrees' root prefixes, which their dfs replays without storing,
  // are stored now that the search is over: counted, they prune nothing.
  for (const j of entered) storeRootStates(cfg, cache, subtrees[j]);
  const bound = cfg.preemptionBound ?? DEFAULT_PREEMPTION_BOUND;
  return {
    format: "smpcall-explore-shard",
    version: 3,
    run: scheduleString(cfg, []),
    preemptionBound: Number.isFinite(bound) ? bound : null,
    faultBound: Number.isFinite(faultBoundOf(cfg)) ? faultBoundOf(cfg) : null,
    symmetry: cfg.symmetry !== false,
    shard,
    shards,
    subtrees: subtrees.length,
    subtreesDone: done,
    schedules,
    distinctStates: cache.seen.size,
    complete,
    violation,
    ms: Math.round(performance.now() - t0),
  };
}

/** What merging shard results gives: one verdict. */
export interface MergedResult {
  readonly run: string;
  readonly preemptionBound: number | null;
  /** Injected faults per schedule the search allowed (null: unbounded). */
  readonly faultBound: number | null;
  readonly shards: number;
  readonly schedules: number;
  /**
   * Bounds on the distinct states the shards met between them (shards do not share states, so
   * the exact figure is not known): at least the most one shard met, at most the sum over
   * shards (which counts a state k shards met k times).
   */
  readonly distinctStatesAtLeast: number;
  readonly distinctStatesAtMost: number;
  /** Every shard complete. */
  readonly complete: boolean;
  /** The violation of the lowest subtree among the shards', or null. */
  readonly violation: ShardResult["violation"];
  /** Longest shard, ms (the wall time of shards run side by side). */
  readonly ms: number;
}

/** Subtrees of a search of `subtrees` that shard `shard` of `shards` searches (every `shards`-th, from `shard`). */
function shareOf(shard: number, shards: number, subtrees: number): number {
  return shard < subtrees ? Math.ceil((subtrees - shard) / shards) : 0;
}

/**
 * A schedule string with its choices, count, checksum, end and fault bound left out: what search
 * it is of (a violation's schedule carries the fault bound only when its run met a fault choice;
 * the shard file has it as a field).
 */
function searchOf(schedule: string): string {
  const { choiceOffsets: _o, choicesEnd: _e, end: _end, faultBound: _f, ...spec } = decodeSchedule(schedule);
  return encodeSchedule({ ...spec, choices: [] });
}

/**
 * A shard file's content checked: throws UsageError naming `name` and what is wrong. Beyond the
 * types, the file must agree with itself, since merge prints a verdict from it: a complete shard
 * searched every subtree of its share and found no violation; a violation lies in one of its
 * subtrees, has a kind and a message, and its schedule is a valid schedule of the file's search.
 */
export function checkShardResult(x: unknown, name: string): ShardResult {
  const r = x as Partial<ShardResult> | null;
  const bad = (what: string): never => {
    throw new UsageError(`shard file ${name}: ${what}`);
  };
  /** A file at odds with itself: the hint says what to do. */
  const odd = (what: string): never =>
    bad(`${what} (hand-edited or corrupt? write it again with explore --shard i/n --out FILE)`);
  if (typeof r !== "object" || r === null || r.format !== "smpcall-explore-shard")
    bad(
      'not an explore shard result (no "format": "smpcall-explore-shard"); write one with explore --shard i/n --out FILE',
    );
  if (r!.version !== 3)
    bad(
      `version ${String(r!.version)} is not 3: written by another smpcall version${r!.version === 2 ? " (before the fault bound: its search had none)" : ""}; write it again with this one (explore --shard i/n --out FILE)`,
    );
  if (r!.faultBound !== null && !(Number.isSafeInteger(r!.faultBound) && (r!.faultBound as number) >= 0))
    bad("field faultBound is neither null nor a count");
  for (const f of [
    "shard",
    "shards",
    "subtrees",
    "subtreesDone",
    "schedules",
    "distinctStates",
    "ms",
  ] as const)
    if (!Number.isSafeInteger(r![f]) || (r![f] as number) < 0) bad(`field ${f} is not a count`);
  if (typeof r!.run !== "string" || typeof r!.complete !== "boolean") bad("fields run/complete are missing");
  if (r!.shard! >= r!.shards!) bad(`shard ${r!.shard} is not below shards ${r!.shards}`);
  if (r!.shards! > SUBTREE_TARGET)
    odd(`shards ${r!.shards} is above ${SUBTREE_TARGET}, the most a search is split into`);
  let run = "";
  try {
    run = searchOf(r!.run!);
  } catch (e) {
    odd(`field run is not the schedule string of a search: ${(e as Error).message}`);
  }
  // Every search has at least one subtree (the empty prefix), and a subtree searched to the end
  // ran a schedule and stored a state: a file without them would prove "no violation" from nothing.
  if (r!.subtrees! < 1) odd("subtrees is 0: every search is cut into at least one subtree");
  if (r!.subtreesDone! > 0 && (r!.schedules! < 1 || r!.distinctStates! < 1))
    odd(
      `it searched ${r!.subtreesDone} subtree(s) to the end with ${r!.schedules} schedule(s) and ${r!.distinctStates} distinct state(s)`,
    );
  const share = shareOf(r!.shard!, r!.shards!, r!.subtrees!);
  if (r!.subtreesDone! > share)
    odd(
      `subtreesDone ${r!.subtreesDone} is more than the ${share} subtree(s) of shard ${r!.shard}/${r!.shards}`,
    );
  const v = r!.violation;
  if (v !== null && (typeof v !== "object" || Array.isArray(v) || typeof v.schedule !== "string"))
    odd("field violation is neither null nor a violation with a schedule");
  if (r!.complete && (v !== null || r!.subtreesDone !== share))
    odd(
      `it says complete, but ${v !== null ? "has a violation" : `searched ${r!.subtreesDone} of the ${share} subtree(s) of its share`}`,
    );
  if (v) {
    if (typeof v.kind !== "string" || typeof v.message !== "string")
      odd("field violation has no kind or message (strings)");
    if (
      !Number.isSafeInteger(v.subtree) ||
      v.subtree < 0 ||
      v.subtree >= r!.subtrees! ||
      v.subtree % r!.shards! !== r!.shard
    )
      odd(
        `violation subtree ${describeValue(v.subtree)} is not one of shard ${r!.shard}/${r!.shards}'s subtrees`,
      );
    let of = "";
    try {
      of = searchOf(v.schedule);
    } catch (e) {
      odd(`the violation's schedule is not valid: ${(e as Error).message}`);
    }
    if (of !== run) odd("the violation's schedule is of another search than the file's run");
    const vb = decodeSchedule(v.schedule).faultBound;
    if (vb !== undefined && vb !== r!.faultBound)
      odd(`the violation's schedule has fault bound ${vb}, the file's search ${String(r!.faultBound)}`);
  }
  return r as ShardResult;
}

/**
 * Combine the results of every shard of one search: complete only if every shard is; the
 * violation of the lowest subtree if any shard found one. Throws UsageError when the shards are
 * of different searches, a shard is missing or given twice.
 */
export function mergeShards(results: readonly { name: string; result: ShardResult }[]): MergedResult {
  if (results.length === 0) throw new UsageError("explore merge: give the shard files to merge");
  const first = results[0];
  const seen = new Map<number, string>();
  for (const { name, result: r } of results) {
    for (const f of ["run", "shards", "preemptionBound", "faultBound", "symmetry", "subtrees"] as const)
      if (r[f] !== first.result[f])
        throw new UsageError(
          `shard file ${name} is of another search than ${first.name}: ${f} ${JSON.stringify(r[f])} vs ${JSON.stringify(first.result[f])}`,
        );
    const dup = seen.get(r.shard);
    if (dup !== undefined)
      throw new UsageError(`shard ${r.shard}/${r.shards} given twice: ${dup} and ${name}`);
    seen.set(r.shard, name);
  }
  const n = first.result.shards;
  const missing = Array.from({ length: n }, (_, i) => i).filter((i) => !seen.has(i));
  if (missing.length > 0 && !results.some((x) => x.result.violation !== null))
    throw new UsageError(
      `explore merge: shard(s) ${missing.map((i) => `${i}/${n}`).join(", ")} missing: the verdict needs every shard (or one with a violation)`,
    );
  let violation: ShardResult["violation"] = null;
  for (const { result: r } of results)
    if (r.violation !== null && (violation === null || r.violation.subtree < violation.subtree))
      violation = r.violation;
  return {
    run: first.result.run,
    preemptionBound: first.result.preemptionBound,
    faultBound: first.result.faultBound,
    shards: n,
    schedules: results.reduce((a, x) => a + x.result.schedules, 0),
    distinctStatesAtLeast: Math.max(...results.map((x) => x.result.distinctStates)),
    distinctStatesAtMost: results.reduce((a, x) => a + x.result.distinctStates, 0),
    complete: violation === null && missing.length === 0 && results.every((x) => x.result.complete),
    violation,
    ms: Math.max(...results.map((x) => x.result.ms)),
  };
}
