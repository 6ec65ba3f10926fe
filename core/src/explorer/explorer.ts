import type { ArchDescriptor } from "../arch/descriptor";
import type { RawArchOptions } from "../arch/options";
import { DEFAULT_KERNEL_PROFILE, type KernelProfileName } from "../kernel/profile";
import type { IdleMode } from "../kernel/idle-loop";
import type { MemoryModelName } from "../memory/model";
import type { Chooser } from "../machine/chooser";
import type { RunOutcome } from "../machine/machine";

import type { DeadlockReport } from "../machine/problems";
import type { EventHeap } from "../machine/event-heap";
import { GraphSnapshot, SnapshotUnsupported } from "./graph-snapshot";
import { RcuModel } from "./rcu";
import { createSmpSystem, type SmpSystem } from "../system";
import { TraceSink } from "../trace/trace-sink";
import { PctChooser, RandomWalkChooser } from "./choosers";
import { DEFAULT_PREEMPTION_BOUND, DfsCache, dfsSubtree, faultBoundOf } from "./dfs";
import { ExactReplayChooser, ScheduleDiverged, ScheduleMismatch } from "./exact-replay";
import { FrameTracker } from "./frame-tracker";
import { CallLedger } from "./ledger";
import { PolicyRuntime, type CallPolicy } from "./policies";
import { isScenario, type Scenario, type ScenarioContext } from "./scenario";
import { InvalidArgumentError, describeValue } from "../errors";
import { MIN_CPUS } from "../machine/machine";
import { checkChoice, checkFunction, checkInteger, checkNumber, checkObject } from "../validate";
import { archOptionStrings, encodeSchedule, scheduleChecksum, type ScheduleSpec } from "./schedule";

/** Search strategies. */
export type ExploreStrategy = "random" | "pct" | "dfs";

/** One exploration: what to run and how to search. */
export interface ExploreConfig {
  scenario: Scenario;
  policy: CallPolicy;
  arch: ArchDescriptor;
  archOptions?: RawArchOptions;
  /** Absolute path of the backend module, for an out-of-tree backend (carried in schedules). */
  archModule?: string;
  /** Absolute path of the scenario module, for a scenario that is not built in (carried in schedules). */
  scenarioModule?: string;
  /** Kernel profile (`6.1`, the default, or `mainline`), passed to the system; schedules carry it when it is not the default. */
  kernel?: KernelProfileName;
  /** How idle CPUs sleep (default `halt`); a non-default mode is carried in schedules. */
  idle?: IdleMode;
  /** Memory model (default `sc`); a weak one is carried in schedules with the dropped barriers. */
  memory?: MemoryModelName;
  /** Barriers removed for the experiment (`--drop-barrier`), carried in schedules. */
  dropBarriers?: readonly string[];
  cpus: number;
  /** Calls each CPU issues (scenario-defined meaning). */
  calls: number;
  strategy: ExploreStrategy;
  /** Schedules to try at most. */
  runs: number;
  /** Events per run before it counts as a livelock. */
  maxSteps: number;
  seed: number;
  /** PCT depth (bug depth it targets). */
  pctDepth?: number;
  /** DFS: at most this many preemptions per schedule (default 2; Infinity = unbounded). */
  preemptionBound?: number;
  /**
   * DFS: at most this many injected faults per schedule (a backend's `FaultInjector.chance`
   * answered "fault", e.g. sparc's NACK or would-block); once a schedule has taken them its
   * further fault choices are "no fault" (default {@link DEFAULT_FAULT_BOUND}; Infinity =
   * unbounded). Random and pct ignore it. A replay ({@link replay}) takes the schedule's
   * `fault-bound` field here (absent: unbounded, as schedules made before the bound existed).
   */
  faultBound?: number;
  /** Probability an allocation of call data fails (default 1, the thread's case). */
  allocFailRate?: number;
  /**
   * DFS: key states canonically under the scenario's declared symmetry (default true; false =
   * every state as it is).
   */
  symmetry?: boolean;
  /**
   * Reuse one system for every schedule (dfs, random, pct), reset to its built state before each (see
   * {@link ScenarioRig}), instead of building a fresh one per schedule. Same runs, less time.
   * Default: true for the built-in scenarios and backends, false when either is loaded from a
   * module (`scenarioModule`, `archModule`), whose state the reset may not see (closures,
   * module variables).
   */
  reuseSystem?: boolean;
  /** Progress callback (schedules done, limit, and for dfs the distinct states so far). */
  onProgress?: (done: number, limit: number, states: number | null) => void;
}

/** A violation found, with the schedule that reproduces it. */
export interface Violation {
  readonly kind:
    | "deadlock"
    | "lost-call"
    | "duplicate-call"
    | "early-return"
    | "invariant"
    | "livelock"
    | "panic"
    | "problem"
    | "stale-read";
  readonly message: string;
  /** Replay with `smpcall replay --schedule <this>`. */
  readonly schedule: string;
  /** Which schedule of the search (1-based). */
  readonly scheduleNumber: number;
  /**
   * Injected faults the run took (backend fault choices answered "fault"), when it met any fault
   * choice; absent when it met none (the violation owes nothing to injected faults).
   */
  readonly faults?: number;
  readonly deadlock?: DeadlockReport;
}

/** What an exploration found. */
export interface ExploreResult {
  readonly scenario: string;
  readonly policy: string;
  readonly strategy: ExploreStrategy;
  readonly cpus: number;
  readonly calls: number;
  /** Schedules run (including pruned ones for dfs). */
  readonly schedules: number;
  /** Distinct states seen at choice points (dfs), else null. */
  readonly distinctStates: number | null;
  /** The dfs search covered every schedule (within the step limit and the preemption bound). */
  readonly complete: boolean;
  /** The preemption bound of a dfs search (null otherwise or unbounded). */
  readonly preemptionBound: number | null;
  /** The bound on injected faults per schedule of a dfs search (null otherwise or unbounded). */
  readonly faultBound: number | null;
  readonly ms: number;
  readonly violation: Violation | null;
  /** Mean over completed runs: IPIs sent per call issued. */
  readonly ipisPerCall: number;
  /** Mean over runs: virtual ns callers waited for admission (lock/mask/counters). */
  readonly serialisedNs: number;
}

/** One run of a scenario under a chooser. */
export interface ScenarioRun {
  readonly system: SmpSystem;
  readonly ctx: ScenarioContext;
  readonly outcome: RunOutcome;
  readonly violation: Omit<Violation, "schedule" | "scheduleNumber"> | null;
}

/** Build and run the scenario once under `chooser`; `prepare` sees the context before the scenario's setup. */
export function runScenario(
  cfg: ExploreConfig,
  chooser: Chooser,
  trace = false,
  prepare?: (ctx: ScenarioContext) => void,
): ScenarioRun {
  return runParts(cfg, buildRun(cfg, chooser, trace), prepare);
}

/**
 * Set the scenario up on built (or freshly reset) parts and run it. A fresh context object per
 * run: scenarios may key per-run state on it.
 */
function runParts(
  cfg: ExploreConfig,
  { system, ledger, runtime, frames }: RunParts,
  prepare?: (ctx: ScenarioContext) => void,
): ScenarioRun {
  const ctx: ScenarioContext = {
    system,
    policy: cfg.policy,
    runtime,
    ledger,
    cpus: cfg.cpus,
    calls: cfg.calls,
    frames,
  };
  prepare?.(ctx);
  cfg.scenario.setup(ctx);
  const outcome = system.run({ maxEvents: cfg.maxSteps });
  return { system, ctx, outcome, violation: classify(cfg.scenario, ctx, outcome) };
}

/** The parts of one run that exist before the scenario's setup: the system, the ledger, the policy runtime, the frame tracker. */
interface RunParts {
  readonly system: SmpSystem;
  readonly ledger: CallLedger;
  readonly runtime: PolicyRuntime;
  readonly frames: FrameTracker;
}

function buildRun(cfg: ExploreConfig, chooser: Chooser, trace: boolean): RunParts {
  const system = createSmpSystem({
    cpus: cfg.cpus,
    seed: cfg.seed,
    arch: cfg.arch,
    archOptions: cfg.archOptions,
    kernel: cfg.kernel,
    idle: cfg.idle ?? "halt",
    memory: cfg.memory ?? "sc",
    dropBarriers: cfg.dropBarriers ?? [],
    chooser,
    csdLockTimeoutMs: 0,
    cost: { deliveryJitter: 0 },
    trace: trace ? new TraceSink(true) : false,
  });
  // A wake that changes nothing schedules no event (see Machine.settleSpuriousWakes): what a
  // wake does then depends only on what the state key holds.
  system.machine.settleSpuriousWakes = true;
  const ledger = new CallLedger();
  const runtime = new PolicyRuntime(system, cfg.allocFailRate ?? 1, cfg.policy);
  return { system, ledger, runtime, frames: new FrameTracker(system) };
}

/**
 * May the runs of `cfg` share one reset system ({@link ScenarioRig})? `cfg.reuseSystem` if set;
 * else yes, unless the scenario or the backend is loaded from a module (its state may live
 * where the reset does not look).
 */
export function reusesSystem(cfg: ExploreConfig): boolean {
  return cfg.reuseSystem ?? (cfg.archModule === undefined && cfg.scenarioModule === undefined);
}

/** A chooser that passes every choice to the one set for the current run (a reused system keeps one chooser object). */
class SwitchChooser implements Chooser {
  readonly name = "switch";
  readonly earliestFirst = false;
  /** The current run's chooser. */
  target: Chooser | null = null;
  private get t(): Chooser {
    if (this.target === null) throw new Error("SwitchChooser: no chooser set for this run");
    return this.target;
  }
  pickEvent(heap: EventHeap): number {
    return this.t.pickEvent(heap);
  }
  chooseInt(n: number, tag: string): number {
    return this.t.chooseInt(n, tag);
  }
  chance(p: number, tag: string): boolean {
    return this.t.chance(p, tag);
  }
  fault(p: number, tag: string): boolean {
    const t = this.t;
    return t.fault !== undefined ? t.fault(p, tag) : t.chance(p, tag);
  }
}

/**
 * One system reused for every run of a search: built once, its state recorded
 * ({@link GraphSnapshot}), and put back before each run — instead of building a fresh machine,
 * kernel, backend and policy runtime per schedule, which was a third of a dfs search's time with
 * the garbage it left. Every run starts from exactly the state a fresh build has (the snapshot
 * restores every field, element and entry of every object the system reaches), so runs are
 * the same as on fresh systems: `core/test/explorer-system-reuse.test.ts` checks runs,
 * state keys and search counts against fresh builds. A run's result is valid until the next
 * run: the system is then reset. Only for choosers that pick events (`earliestFirst` false).
 */
export class ScenarioRig {
  private readonly parts: RunParts;
  private readonly chooser = new SwitchChooser();
  private readonly snapshot: GraphSnapshot;

  /** Build the system of `cfg` and record its state; throws {@link SnapshotUnsupported} when it cannot be recorded. */
  constructor(private readonly cfg: ExploreConfig) {
    this.parts = buildRun(cfg, this.chooser, false);
    const s = this.parts.system;
    // The machine's RCU model is found through a WeakMap (RcuModel.of), which no field reaches:
    // made now (the 2008 policies make it here anyway; a scenario may ask for it in its setup),
    // it is part of the recorded state, and every run finds it as built.
    const rcu = RcuModel.of(s.machine);
    // The tsyringe container and the backend's descriptor do not change after the build.
    this.snapshot = new GraphSnapshot(
      [s.machine, s.kernel, s.arch, s.archOptions, this.parts, this.chooser, rcu],
      new Set<object>([s.container, s.descriptor]),
    );
  }

  /** A rig for `cfg`, or null when its system cannot be reused (it holds state a snapshot cannot restore). */
  static tryCreate(cfg: ExploreConfig): ScenarioRig | null {
    try {
      return new ScenarioRig(cfg);
    } catch (e) {
      if (e instanceof SnapshotUnsupported) return null;
      throw e;
    }
  }

  /** Objects the snapshot restores before each run. */
  get objects(): number {
    return this.snapshot.size;
  }

  /** Run the scenario once under `chooser` on the reset system (see {@link runScenario}). */
  run(chooser: Chooser, prepare?: (ctx: ScenarioContext) => void): ScenarioRun {
    this.snapshot.restore();
    this.chooser.target = chooser;
    return runParts(this.cfg, this.parts, prepare);
  }
}

function classify(scenario: Scenario, ctx: ScenarioContext, out: RunOutcome): ScenarioRun["violation"] {
  if (out.status === "deadlock")
    return { kind: "deadlock", message: out.deadlock!.message, deadlock: out.deadlock };
  if (out.status === "step-limit")
    return {
      kind: "livelock",
      message: `no completion within the step limit (livelock or a run longer than --max-steps)`,
    };
  if (out.status === "panic") {
    // The kernel panicked (a sparc64 mondo timeout): the calls it left queued are not "lost"
    // by the protocol, the machine stopped. The panic first, then what was left.
    const panics = out.problems.filter((p) => p.kind === "panic");
    const rest = out.problems.filter((p) => p.kind !== "panic" && p.kind !== "stuck-csd");
    return {
      kind: "panic",
      message: [...panics, ...rest].map((p) => p.message).join("; ") || "the kernel panicked",
    };
  }
  const ledger = ctx.ledger.violations();
  if (ledger.length > 0) {
    const first = ledger[0];
    const kind = first.includes("lost")
      ? "lost-call"
      : first.includes("waited")
        ? "early-return"
        : "duplicate-call";
    return { kind, message: ledger.join("; ") };
  }
  const bad = out.problems.filter((p) => p.kind !== "stuck-csd");
  if (bad.length > 0)
    return {
      kind: bad.some((p) => p.kind === "stale-read") ? "stale-read" : "problem",
      message: bad.map((p) => p.message).join("; "),
    };
  for (const inv of scenario.invariants ?? []) {
    const msg = inv(ctx);
    if (msg !== null) return { kind: "invariant", message: msg };
  }
  return null;
}

/**
 * How a run ended, as a schedule's `end` field: `STATUS.TIME.DIGEST` — the machine's status,
 * the simulated ns it stopped at, and a checksum of the violation (kind and message, which name
 * the CPUs and times). A replay that ends otherwise is not the run explore reported. (Not the
 * options per choice: a dfs under a preemption bound records a forced choice with one option,
 * where a replay sees them all.)
 */
export function runEnd(run: ScenarioRun): string {
  const v = run.violation;
  const digest = scheduleChecksum(v === null ? "" : `${v.kind}|${v.message}`);
  return `${run.outcome.status}.${Math.round(run.outcome.timeNs)}.${digest}`;
}

/**
 * The fault bound a schedule carries: a dfs search's finite bound, when its run met a backend
 * fault choice (`faultChoices` > 0); else undefined, so a run without injected faults (every run
 * on a backend that injects none) keeps the schedule string it had before the bound existed.
 */
export function scheduleFaultBound(
  cfg: Pick<ExploreConfig, "strategy" | "faultBound">,
  faultChoices: number,
): number | undefined {
  const bound = faultBoundOf(cfg);
  return cfg.strategy === "dfs" && Number.isFinite(bound) && faultChoices > 0 ? bound : undefined;
}

/** Readable form of a {@link runEnd} value: "deadlock at 1140 ns". */
function describeEnd(end: string): string {
  const [status, time] = end.split(".");
  return `${status} at ${time} ns`;
}

/**
 * The replayable schedule of a run of `cfg` that made `choices` (see {@link encodeSchedule});
 * `end`: how the run ended ({@link runEnd}), for replay to check; `faultBound`: the bound on
 * injected faults the run was made under, when it applied (see {@link scheduleFaultBound}).
 */
export function scheduleString(
  cfg: Pick<
    ExploreConfig,
    | "scenario"
    | "scenarioModule"
    | "policy"
    | "arch"
    | "archModule"
    | "archOptions"
    | "kernel"
    | "idle"
    | "memory"
    | "dropBarriers"
    | "cpus"
    | "calls"
    | "seed"
    | "allocFailRate"
    | "maxSteps"
  >,
  choices: readonly number[],
  end?: string,
  faultBound?: number,
): string {
  const spec: ScheduleSpec = {
    scenario: cfg.scenario.name,
    policy: cfg.policy.name,
    arch: cfg.arch.name,
    archOptions: archOptionStrings(cfg.archOptions),
    cpus: cfg.cpus,
    calls: cfg.calls,
    seed: cfg.seed,
    allocFailRate: cfg.allocFailRate ?? 1,
    maxSteps: cfg.maxSteps,
    choices: [...choices],
  };
  if (cfg.scenarioModule !== undefined) spec.scenarioModule = cfg.scenarioModule;
  if (cfg.archModule !== undefined) spec.archModule = cfg.archModule;
  if (cfg.kernel !== undefined && cfg.kernel !== DEFAULT_KERNEL_PROFILE) spec.kernel = cfg.kernel;
  if (cfg.idle !== undefined && cfg.idle !== "halt") spec.idle = cfg.idle;
  if (cfg.memory !== undefined && cfg.memory !== "sc") spec.memory = cfg.memory;
  if (cfg.dropBarriers !== undefined && cfg.dropBarriers.length > 0)
    spec.dropBarriers = [...cfg.dropBarriers];
  if (faultBound !== undefined && Number.isFinite(faultBound)) spec.faultBound = faultBound;
  if (end !== undefined) spec.end = end;
  return encodeSchedule(spec);
}

// ------------------------------------------------------------------------------ search

/**
 * Check an exploration's config once, at entry: a scenario, a policy, a backend, CPUs within the
 * scenario's range, and integer counts; anything else is an InvalidArgumentError naming the field.
 */
export function checkExploreConfig(cfg: ExploreConfig): void {
  checkObject("the explore config", cfg);
  if (!isScenario(cfg.scenario))
    throw new InvalidArgumentError(
      `scenario must be a Scenario ({ name, description, defaultCpus, setup(ctx) }), got ${describeValue(cfg.scenario)}`,
    );
  if (typeof cfg.policy !== "object" || cfg.policy === null || typeof cfg.policy.call !== "function")
    throw new InvalidArgumentError(
      `policy must be a CallPolicy (getPolicy(name)), got ${describeValue(cfg.policy)}`,
    );
  if (typeof cfg.arch !== "object" || cfg.arch === null || typeof cfg.arch.register !== "function")
    throw new InvalidArgumentError(`arch must be an ArchDescriptor, got ${describeValue(cfg.arch)}`);
  checkInteger(
    `cpus (scenario ${cfg.scenario.name})`,
    cfg.cpus,
    cfg.scenario.minCpus ?? MIN_CPUS,
    cfg.scenario.maxCpus ?? 64,
  );
  checkInteger("calls", cfg.calls, 1, 1_000_000);
  checkChoice("strategy", cfg.strategy, ["random", "pct", "dfs"]);
  checkInteger("runs", cfg.runs, 1, Number.MAX_SAFE_INTEGER);
  checkInteger("maxSteps", cfg.maxSteps, 1, Number.MAX_SAFE_INTEGER);
  checkInteger("seed", cfg.seed, 0, 4294967295);
  if (cfg.pctDepth !== undefined) checkInteger("pctDepth", cfg.pctDepth, 1, 1_000_000);
  if (cfg.preemptionBound !== undefined && cfg.preemptionBound !== Number.POSITIVE_INFINITY)
    checkInteger("preemptionBound", cfg.preemptionBound, 0, 1_000_000);
  if (cfg.faultBound !== undefined && cfg.faultBound !== Number.POSITIVE_INFINITY)
    checkInteger("faultBound", cfg.faultBound, 0, 1_000_000);
  if (cfg.allocFailRate !== undefined) checkNumber("allocFailRate", cfg.allocFailRate, 0, 1);
  if (cfg.onProgress !== undefined) checkFunction("onProgress", cfg.onProgress);
  if (cfg.symmetry !== undefined && typeof cfg.symmetry !== "boolean")
    throw new InvalidArgumentError(
      `explore: symmetry must be true or false (use the scenario's declared symmetry or not), got ${describeValue(cfg.symmetry)}`,
    );
  if (
    cfg.scenario.symmetry !== undefined &&
    cfg.scenario.symmetry !== "rotation" &&
    cfg.scenario.symmetry !== "permutation"
  )
    throw new InvalidArgumentError(
      `explore: scenario ${cfg.scenario.name} declares symmetry ${describeValue(cfg.scenario.symmetry)}: expected "rotation", "permutation" or none`,
    );
}

/** Explore schedules of a scenario under a policy; stops at the first violation. */
export function explore(cfg: ExploreConfig): ExploreResult {
  checkExploreConfig(cfg);
  const t0 = performance.now();
  let schedules = 0;
  let ipis = 0;
  let serialised = 0;
  let counted = 0;
  let violation: Violation | null = null;
  let complete = false;
  let distinct: number | null = null;
  const note = (run: ScenarioRun) => {
    if (run.ctx.ledger.size > 0) {
      ipis += run.system.kernel.stats.ipiTargets / run.ctx.ledger.size;
      serialised += run.ctx.runtime.serialisedNs;
      counted++;
    }
  };
  const found = (
    run: ScenarioRun,
    choices: readonly number[],
    faults: { faultChoices: number; faultsUsed: number },
  ) => {
    violation = {
      ...run.violation!,
      schedule: scheduleString(cfg, choices, runEnd(run), scheduleFaultBound(cfg, faults.faultChoices)),
      scheduleNumber: schedules,
      ...(faults.faultChoices > 0 ? { faults: faults.faultsUsed } : {}),
    };
  };
  if (cfg.strategy === "dfs") {
    const cache = new DfsCache(cfg);
    const out = dfsSubtree(cfg, [], cache, cfg.runs, (run, n) => {
      if (run) note(run);
      cfg.onProgress?.(n, cfg.runs, cache.seen.size);
    });
    schedules = out.schedules;
    if (out.violation) found(out.violation.run, out.violation.choices, out.violation);
    complete = out.complete;
    distinct = cache.seen.size;
  } else {
    let rig: ScenarioRig | null | undefined;
    for (let r = 0; r < cfg.runs; r++) {
      schedules++;
      const seed = (cfg.seed * 1_000_003 + r) >>> 0;
      const chooser =
        cfg.strategy === "random"
          ? new RandomWalkChooser(seed)
          : new PctChooser(seed, cfg.cpus, cfg.pctDepth ?? 3);
      rig ??= reusesSystem(cfg) ? ScenarioRig.tryCreate(cfg) : null;
      const run = rig === null ? runScenario(cfg, chooser) : rig.run(chooser);
      note(run);
      cfg.onProgress?.(schedules, cfg.runs, null);
      if (run.violation) {
        found(run, chooser.choices, chooser);
        break;
      }
    }
  }
  return {
    scenario: cfg.scenario.name,
    policy: cfg.policy.name,
    strategy: cfg.strategy,
    cpus: cfg.cpus,
    calls: cfg.calls,
    schedules,
    distinctStates: distinct,
    complete,
    preemptionBound:
      cfg.strategy === "dfs" && Number.isFinite(cfg.preemptionBound ?? DEFAULT_PREEMPTION_BOUND)
        ? (cfg.preemptionBound ?? DEFAULT_PREEMPTION_BOUND)
        : null,
    faultBound: cfg.strategy === "dfs" && Number.isFinite(faultBoundOf(cfg)) ? faultBoundOf(cfg) : null,
    ms: Math.round(performance.now() - t0),
    violation,
    ipisPerCall: counted ? Math.round((ipis / counted) * 100) / 100 : 0,
    serialisedNs: counted ? Math.round(serialised / counted) : 0,
  };
}

/**
 * Re-run exactly the schedule of a violation (optionally traced). Throws {@link ScheduleMismatch}
 * when the choices do not fit the run: too few (truncated), too many (over-long), or an option
 * that does not exist; and {@link ScheduleDiverged} when they fit but the run does not end as
 * `end` (the schedule's recorded {@link runEnd}) says.
 */
export function replay(
  cfg: Omit<ExploreConfig, "strategy" | "runs">,
  choices: readonly number[],
  trace = false,
  end?: string,
): ScenarioRun {
  // The schedule's fault bound (absent: unbounded): a forced "no fault" is read as it was recorded.
  const chooser = new ExactReplayChooser(choices, cfg.faultBound ?? Number.POSITIVE_INFINITY);
  const run = runScenario({ ...cfg, strategy: "dfs", runs: 1 }, chooser, trace);
  if (chooser.unused > 0)
    throw new ScheduleMismatch(
      `over-long: the run ended after ${chooser.choices.length} choice(s), but the schedule has ${choices.length}`,
      chooser.choices.length,
    );
  if (end !== undefined) {
    const got = runEnd(run);
    if (got !== end) {
      const same = describeEnd(got) === describeEnd(end);
      throw new ScheduleDiverged(
        `the schedule's run ended ${describeEnd(end)} when explore recorded it, but replays to ${describeEnd(got)}${same ? " with another violation" : ""}: the backend (or its option defaults), the scenario or the kernel model changed since, so this is not the run explore reported; run smpcall explore again`,
      );
    }
  }
  return run;
}
