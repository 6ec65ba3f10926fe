import { PruneRun, ReplayChooser, StateCache } from "./choosers";
import type { ExploreConfig, ScenarioRun } from "./explorer";
import { ScenarioRig, reusesSystem, runScenario } from "./explorer";
import type { Chooser } from "../machine/chooser";
import type { ScenarioContext } from "./scenario";
import { CanonicalKeyer, type Symmetry } from "./symmetry";
import { FingerprintTable } from "./fingerprint-table";

/** Preemptions per schedule the dfs strategy allows by default. */
export const DEFAULT_PREEMPTION_BOUND = 2;

/**
 * Injected faults (a backend's `FaultInjector.chance`, e.g. sparc's NACK and would-block) per
 * schedule the dfs strategy allows by default; once a schedule has taken them, every further
 * fault choice of that schedule is "no fault" (see docs/explorer.md, "Fault bounding").
 */
export const DEFAULT_FAULT_BOUND = 3;

/** The fault bound a dfs of `cfg` runs under (Infinity: unbounded). */
export function faultBoundOf(cfg: Pick<ExploreConfig, "faultBound">): number {
  return cfg.faultBound ?? DEFAULT_FAULT_BOUND;
}

/** The explored states of a dfs search and how it keys them (shared by the subtrees one search covers). */
export class DfsCache {
  readonly seen: StateCache;
  readonly keyer: CanonicalKeyer;
  /** The system the search's runs reuse (built on the first run), null when it builds one per run. */
  private rig: ScenarioRig | null | undefined = undefined;
  /**
   * The cache of one search of `cfg`: in a table of its own, or in `table` (shared by the
   * workers of one search: see {@link sharedStateTable}).
   */
  constructor(
    cfg: Pick<ExploreConfig, "symmetry" | "scenario" | "cpus" | "memory" | "preemptionBound">,
    table?: FingerprintTable,
  ) {
    // Under a preemption bound the budget is kept per CPU last to run (and "none"); unbounded, one way.
    this.seen = new StateCache(budgetWays(cfg) - 1, table);
    // Under a weak memory model the state key holds per-CPU store buffers and views that are not
    // renamed with the CPUs, so symmetry reduction would be unsound there: it is off.
    const weak = cfg.memory !== undefined && cfg.memory !== "sc";
    const symmetry: Symmetry = cfg.symmetry === false || weak ? "none" : (cfg.scenario.symmetry ?? "none");
    this.keyer = new CanonicalKeyer(symmetry, cfg.cpus, this.seen.words);
  }

  /** Run `cfg`'s scenario once under `chooser`: on the reused system when `cfg` allows it, else on a fresh one. */
  run(cfg: ExploreConfig, chooser: Chooser, prepare: (ctx: ScenarioContext) => void): ScenarioRun {
    if (this.rig === undefined) this.rig = reusesSystem(cfg) ? ScenarioRig.tryCreate(cfg) : null;
    return this.rig === null ? runScenario(cfg, chooser, false, prepare) : this.rig.run(chooser, prepare);
  }
}

/** Ways a state is reached that the state table tells apart: per CPU last to run and none under a preemption bound, else 1. */
function budgetWays(cfg: Pick<ExploreConfig, "cpus" | "preemptionBound">): number {
  return Number.isFinite(cfg.preemptionBound ?? DEFAULT_PREEMPTION_BOUND) ? cfg.cpus + 1 : 1;
}

/**
 * A state table in a `SharedArrayBuffer` for the workers of one dfs search of `cfg` (each
 * makes its {@link DfsCache} on it), with room for `states` states.
 */
export function sharedStateTable(
  cfg: Pick<ExploreConfig, "cpus" | "preemptionBound">,
  states: number,
): SharedArrayBuffer {
  return FingerprintTable.allocate(
    budgetWays(cfg),
    FingerprintTable.log2SlotsFor(states),
    true,
  ) as SharedArrayBuffer;
}

/** What a dfs of one subtree did. */
export interface SubtreeOutcome {
  /** Schedules run (pruned ones included). */
  schedules: number;
  /**
   * The first violating run and its choices, or null; `faultChoices`: the backend fault choices
   * the run met (forced ones included: see `RecordingChooser.faultChoices`), `faultsUsed`:
   * the faults it took.
   */
  violation: {
    run: ScenarioRun;
    choices: number[];
    scheduleNumber: number;
    faultChoices: number;
    faultsUsed: number;
  } | null;
  /** Every schedule of the subtree was covered (within the bounds). */
  complete: boolean;
}

/**
 * Depth-first search, by stateless re-execution, of the schedules that begin with `root` (the
 * whole search for `[]`): replay a prefix, take the first option at each new choice point
 * (pruning states `cache` has explored), then backtrack to the deepest untried option below
 * `root`. Stops at the first violation, after `limit` schedules, or when `stop()` says so.
 * `onRun` sees every schedule's run (null when it was pruned). With `storeRoot`, the states at
 * the root's own choice points are stored in the cache too (a search split among workers that
 * share one table: the other subtrees under them cover their other branches).
 */
export function dfsSubtree(
  cfg: ExploreConfig,
  root: readonly number[],
  cache: DfsCache,
  limit: number,
  onRun: (run: ScenarioRun | null, schedules: number) => void = () => {},
  stop: () => boolean = () => false,
  storeRoot = false,
): SubtreeOutcome {
  const { seen, keyer } = cache;
  let schedules = 0;
  let prefix: number[] = [...root];
  for (;;) {
    if (schedules >= limit || stop()) return { schedules, violation: null, complete: false };
    schedules++;
    let ctxRef: ScenarioContext | null = null;
    const chooser = new ReplayChooser(
      prefix,
      () => keyer.key(ctxRef!),
      seen,
      cfg.preemptionBound ?? DEFAULT_PREEMPTION_BOUND,
      (cpu) => keyer.perm[cpu],
      storeRoot && schedules === 1 ? root.length : 0,
      faultBoundOf(cfg),
    );
    let run: ScenarioRun | null = null;
    try {
      run = cache.run(cfg, chooser, (c) => (ctxRef = c));
    } catch (e) {
      if (!(e instanceof PruneRun)) throw e;
    }
    onRun(run, schedules);
    if (run) {
      if (run.violation)
        return {
          schedules,
          violation: {
            run,
            choices: [...chooser.choices],
            scheduleNumber: schedules,
            faultChoices: chooser.faultChoices,
            faultsUsed: chooser.faultsUsed,
          },
          complete: false,
        };
    }
    // Backtrack: the deepest choice below the root with an untried option.
    const ch = chooser.choices;
    const opts = chooser.options;
    let i = ch.length - 1;
    while (i >= root.length && ch[i] + 1 >= opts[i]) i--;
    if (i < root.length) return { schedules, violation: null, complete: true };
    prefix = [...ch.slice(0, i), ch[i] + 1];
  }
}
