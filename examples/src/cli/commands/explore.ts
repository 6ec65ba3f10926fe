import * as fs from "node:fs";
import * as path from "node:path";
import {
  DEFAULT_FAULT_BOUND,
  DEFAULT_PREEMPTION_BOUND,
  POLICIES,
  SCENARIOS,
  MIN_CPUS,
  UsageError,
  UserCodeError,
  chooseArchSpec,
  MAX_MODULE_FILE_BYTES,
  decodeSchedule,
  describeThrown,
  describeValue,
  isModulePath,
  ModuleLoadTimeoutError,
  stopSharedSearch,
  explore,
  getPolicy,
  getScenario,
  isScenario,
  KERNEL_BARRIERS,
  machineBarrierNames,
  parseArchOptions,
  replay,
  type ArchDescriptor,
  type CallPolicy,
  type ExploreConfig,
  type ExploreResult,
  type Violation,
  type MergedResult,
  checkShardResult,
  exploreShard,
  finishSharedSearch,
  mergeShards,
  parseShard,
  sharedProgress,
  sharedSearch,
  splitSearch,
  DEFAULT_SHARED_STATES,
  type SharedPart,
  type SharedSearch,
  type ExploreStrategy,
  type Scenario,
  type ScenarioContext,
} from "@smpcall/core";
import { Option, type Command } from "commander";
import { SingleBar } from "cli-progress";
import {
  DROP_BARRIER_HELP,
  IDLE_HELP,
  MEMORY_HELP,
  collect,
  parseDropBarriers,
  parseMemory,
  kernelOption,
  parseArchOptPairs,
  parseIdle,
  parseProbability,
  parseChoice,
  parseIntOption,
  parseKernel,
  parseSeed,
  resolveArchDescriptor,
} from "../common";
import {
  MAX_SCHEDULE_INPUT_BYTES,
  describeInputError,
  fileKind,
  jsonErrorText,
  readInputFile,
  wantsProgress,
  type CliIo,
} from "../io";
import { noteUserModule } from "../failure";
import { buildTimeline, renderHtmlReport } from "../../html";
import { writeHtmlFile } from "./report";
import { checkOutputFiles, writeOutputFile } from "../output-path";
import { STALL_TIMEOUT_ENV, stallTimeoutS } from "../interrupt";

/** Is `spec` a scenario module path (has a `/` or ends in .js) rather than a built-in name? */
export function isScenarioPath(spec: string): boolean {
  return spec.includes("/") || /\.(c|m)?js$/.test(spec);
}

/** A built-in scenario by name, or a module path exporting one (`scenario` or default). */
export function resolveScenario(spec: string, io: CliIo): Scenario {
  if (!isScenarioPath(spec)) return getScenario(spec);
  const file = path.resolve(io.cwd, spec);
  if (!fs.existsSync(file))
    throw new UsageError(
      `scenario module ${spec} could not be loaded: no such file (looked for ${file}); give the path of a .js file`,
    );
  const st = fs.statSync(file);
  if (st.isDirectory())
    throw new UsageError(
      `scenario module ${spec} is a folder; give the path of a .js file that exports a Scenario`,
    );
  // Node would read a device such as /dev/zero for ever (and fail on a pipe with an error of its own).
  if (!st.isFile())
    throw new UsageError(
      `scenario module ${spec} is ${fileKind(st)}, not a file; give the path of a .js file that exports a Scenario`,
    );
  if (st.size > MAX_MODULE_FILE_BYTES)
    throw new UsageError(
      `scenario module ${spec} is ${st.size} bytes, more than Node.js can load as a module (${MAX_MODULE_FILE_BYTES}); give the path of a .js file that exports a Scenario`,
    );
  let mod: Record<string, unknown> | null;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- a user's scenario module, named at run time
    mod = require(file) as Record<string, unknown> | null;
  } catch (e) {
    throw new UserCodeError(`scenario module ${spec} failed to load: ${describeThrown(e)}`, -1, spec, {
      cause: e,
    });
  }
  noteUserModule(`scenario module ${spec}`);
  const s =
    mod === null || typeof mod !== "object" ? undefined : [mod.scenario, mod.default, mod].find(isScenario);
  if (!s)
    throw new UsageError(
      `scenario module ${spec} does not export a scenario: export { name, description, defaultCpus, setup(ctx) } as "scenario" or default (see docs/explorer.md)`,
    );
  const min = s.minCpus ?? MIN_CPUS;
  const max = s.maxCpus ?? 64;
  const bad = (what: string): never => {
    throw new UsageError(`scenario module ${spec}: ${what} (see docs/explorer.md)`);
  };
  if (!Number.isInteger(min) || !Number.isInteger(max) || min < MIN_CPUS || max > 64 || min > max)
    bad(
      `minCpus ${String(s.minCpus)} and maxCpus ${String(s.maxCpus)} must be integers with ${MIN_CPUS} <= minCpus <= maxCpus <= 64`,
    );
  if (!Number.isInteger(s.defaultCpus) || s.defaultCpus < min || s.defaultCpus > max)
    bad(`defaultCpus ${String(s.defaultCpus)} must be an integer ${min}..${max}`);
  if (s.symmetry !== undefined && s.symmetry !== "rotation" && s.symmetry !== "permutation")
    bad(`symmetry ${JSON.stringify(s.symmetry)} must be "rotation" or "permutation" (or absent)`);
  if (
    s.invariants !== undefined &&
    (!Array.isArray(s.invariants) || s.invariants.some((f) => typeof f !== "function"))
  )
    bad("invariants must be an array of functions (ctx) => string | null");
  return guardScenario(s, `scenario module ${spec}`);
}

/**
 * The scenario with its setup and invariants guarded: a throw of something that is not an Error
 * (no stack to find the module by), or an invariant that returns neither a message nor null,
 * becomes a UserCodeError naming the module (exit 1). Errors pass through as they are.
 */
function guardScenario(s: Scenario, label: string): Scenario {
  const fail = (what: string, e: unknown): never => {
    if (e instanceof Error) throw e;
    throw new UserCodeError(`${label}: ${what} threw ${describeThrown(e)}`, -1, label, { cause: e });
  };
  return {
    ...s,
    setup(ctx) {
      try {
        s.setup(ctx);
      } catch (e) {
        fail("setup", e);
      }
    },
    invariants: s.invariants?.map((inv, i) => (ctx: ScenarioContext): string | null => {
      let r: unknown;
      try {
        r = inv(ctx);
      } catch (e) {
        return fail(`invariant ${i}`, e);
      }
      if (r !== null && typeof r !== "string")
        throw new UserCodeError(
          `${label}: invariant ${i} returned ${describeValue(r)}: return a message (string) for a violation, or null`,
          -1,
          label,
        );
      return r;
    }),
  };
}

/** `--runs` when not given: random and PCT sample this many schedules... */
const DEFAULT_SAMPLED_RUNS = 10_000;
/** ...and the exhaustive search stops when complete, so its limit is only a safety net. */
const DEFAULT_DFS_RUNS = 50_000_000;

/** The flags of `smpcall explore`, as commander parses them. */
export interface ExploreFlags {
  scenario?: string;
  memory?: string;
  dropBarrier?: string[];
  barriers?: boolean;
  arch?: string;
  archOpt?: string[];
  cpus?: string;
  calls: string;
  policy: string;
  strategy: string;
  runs?: string;
  maxSteps: string;
  seed: string;
  pctDepth: string;
  preemptionBound: string;
  faultBound: string;
  allocFail: string;
  kernel: string;
  idle?: string;
  html?: string;
  saveSchedule?: string;
  json?: boolean;
  symmetry: boolean;
  shard?: string;
  out?: string;
  workers?: string;
  maxStates?: string;
}

/** The explore configuration the flags give (all but the policy), and the policies to explore. */
export function exploreBase(
  flags: ExploreFlags,
  io: CliIo,
): { base: Omit<ExploreConfig, "policy">; policies: CallPolicy[] } {
  if (flags.scenario === undefined)
    throw new UsageError("explore needs --scenario NAME|PATH (or --barriers to list the barriers)");
  const scenarioSpec = flags.scenario;
  const scenario = resolveScenario(scenarioSpec, io);
  const arch: ArchDescriptor = resolveArchDescriptor(flags.arch, io);
  // Modules by absolute path, so the printed schedule replays from any directory.
  const archSpec = chooseArchSpec(flags.arch, io.env);
  const archModule = isModulePath(archSpec) ? path.resolve(io.cwd, archSpec) : undefined;
  const scenarioModule = isScenarioPath(scenarioSpec) ? path.resolve(io.cwd, scenarioSpec) : undefined;
  const cpus =
    flags.cpus === undefined
      ? scenario.defaultCpus
      : parseIntOption("--cpus", flags.cpus, scenario.minCpus ?? 2, scenario.maxCpus ?? 64);
  const calls = parseIntOption("--calls", flags.calls, 1, 64);
  const strategy = parseChoice<ExploreStrategy>("--strategy", flags.strategy, ["random", "pct", "dfs"]);
  const runs =
    flags.runs === undefined
      ? strategy === "dfs"
        ? DEFAULT_DFS_RUNS
        : DEFAULT_SAMPLED_RUNS
      : parseIntOption("--runs", flags.runs, 1, 100_000_000);
  const maxSteps = parseIntOption("--max-steps", flags.maxSteps, 10, 100_000_000);
  const seed = parseSeed(flags.seed);
  const pctDepth = parseIntOption("--pct-depth", flags.pctDepth, 1, 64);
  const preemptionBound = parsePreemptionBound(flags.preemptionBound);
  const faultBound = parseFaultBound(flags.faultBound);
  const allocFailRate = parseProbability("--alloc-fail", flags.allocFail);
  if (flags.policy !== "all" && !POLICIES.some((p) => p.name === flags.policy))
    throw new UsageError(
      `unknown policy "${flags.policy}"; choose one of: ${POLICIES.map((p) => p.name).join(", ")}, or all`,
    );
  const policies: CallPolicy[] = flags.policy === "all" ? [...POLICIES] : [getPolicy(flags.policy)];
  const archOptions = parseArchOptPairs(flags.archOpt);
  const kernel = parseKernel(flags.kernel);
  const idle = parseIdle(flags.idle);
  const memory = parseMemory(flags.memory);
  const dropBarriers = parseDropBarriers(flags.dropBarrier, arch, archOptions, cpus);
  return {
    base: {
      scenario,
      scenarioModule,
      arch,
      archModule,
      archOptions,
      kernel,
      idle,
      memory,
      dropBarriers,
      cpus,
      calls,
      strategy,
      runs,
      maxSteps,
      seed,
      pctDepth,
      preemptionBound,
      faultBound,
      allocFailRate,
      symmetry: flags.symmetry,
    },
    policies,
  };
}

/** `--preemption-bound`: 0..1000, or `none` for every interleaving. */
function parsePreemptionBound(text: string): number {
  if (text.trim() === "none") return Number.POSITIVE_INFINITY;
  if (!/^\d+$/.test(text.trim()) || Number(text) > 1000)
    throw new UsageError(`bad --preemption-bound "${text}": expected an integer 0..1000, or none`);
  return Number(text);
}

/** `--fault-bound`: 0..1000, or `none` for no bound on injected faults. */
function parseFaultBound(text: string): number {
  if (text.trim() === "none") return Number.POSITIVE_INFINITY;
  if (!/^\d+$/.test(text.trim()) || Number(text) > 1000)
    throw new UsageError(`bad --fault-bound "${text}": expected an integer 0..1000, or none`);
  return Number(text);
}

/** The bounds of a dfs search, as the header line says them: ", preemption bound 2, fault bound 2". */
function boundsText(r: { preemptionBound: number | null; faultBound: number | null }): string {
  return (
    (r.preemptionBound !== null ? `, preemption bound ${r.preemptionBound}` : "") +
    (r.faultBound !== null ? `, fault bound ${r.faultBound}` : "")
  );
}

/** How many injected faults a violation's run took, when it met any fault choice: " (1 injected fault of the 2 the bound allows)". */
function faultsText(v: Violation, faultBound: number | null): string {
  if (v.faults === undefined) return "";
  const of = faultBound !== null ? ` of the ${faultBound} the fault bound allows` : "";
  return ` (${v.faults} injected fault(s)${of})`;
}

/**
 * What the explorer's state key leaves out for a search with backend `arch` (`archModule`,
 * `scenarioModule`: loaded from a path), or null when nothing: then a complete hashed search
 * is a proof within its bounds. The generic backend's only state is its interrupt lines, which
 * the key holds; the other backends keep state of their own (message words, mondo queues, ICR
 * and stall times) and a scenario module may keep state in its own variables, which it does
 * not (docs/explorer.md, "Equal keys, equal futures").
 */
function keyLeavesOut(arch: string, archModule: boolean, scenarioModule: boolean): string | null {
  if (arch !== "generic" || archModule) return `the ${arch} backend's own state`;
  return scenarioModule ? "what the scenario module keeps in its own variables" : null;
}

/**
 * `stateKeyCaveat` of a hashed (dfs) search in `--json`: what its key does not hold on any
 * backend, so that even with `stateKeyLeavesOut` null a complete search is a proof only up to it
 * (the same caveat the text line says; docs/explorer.md, "where a program is").
 */
export const STATE_KEY_CAVEAT =
  "where waits fell between a program's steps: the state key does not hold where a wait was passed between two steps of a program, so a complete hashed search is a proof within its bounds only up to that (docs/explorer.md)";

/**
 * A result as `--json` prints it: with `stateKeyLeavesOut`, what the state key leaves out (null:
 * nothing, so a complete hashed search is a proof within its bounds, up to `stateKeyCaveat`;
 * else a complete one is not), and `stateKeyCaveat` ({@link STATE_KEY_CAVEAT} when the search
 * hashed states, `hashed`: dfs; null for random and pct, which do not).
 */
function withLeftOut<T extends object>(
  r: T,
  leftOut: string | null,
  hashed: boolean,
): T & { stateKeyLeavesOut: string | null; stateKeyCaveat: string | null } {
  return { ...r, stateKeyLeavesOut: leftOut, stateKeyCaveat: hashed ? STATE_KEY_CAVEAT : null };
}

/** What a complete search that pruned states by their key says, given what the key leaves out. */
function hashedVerdict(leftOut: string | null): { complete: string; none: string } {
  return leftOut === null
    ? {
        complete:
          " over hashed states (equal keys, equal futures, up to where waits fell between a program's steps: docs/explorer.md)",
        none: ": none exists within the bounds",
      }
    : {
        complete: ` over hashed states (the state key leaves out ${leftOut}: not a proof; docs/explorer.md)`,
        none: ": none in the states the hashed search met",
      };
}

/** What the state key leaves out for `cfg` (see {@link keyLeavesOut}). */
function leftOutOf(cfg: Pick<ExploreConfig, "arch" | "archModule" | "scenarioModule">): string | null {
  return keyLeavesOut(cfg.arch.name, cfg.archModule !== undefined, cfg.scenarioModule !== undefined);
}

function describeResult(r: ExploreResult, leftOut: string | null, how?: string): string {
  const L: string[] = [];
  const hashed = hashedVerdict(leftOut);
  const bound = boundsText(r);
  L.push(
    `explore ${r.scenario} / policy ${r.policy} / ${r.cpus} CPUs x ${r.calls} call(s) / ${r.strategy}${bound}${how !== undefined ? ` / ${how}` : ""}`,
  );
  L.push(
    `  ${r.schedules} schedule(s)${r.distinctStates !== null ? `, ${r.distinctStates} distinct states` : ""}, ${r.ms} ms${r.strategy !== "dfs" ? "" : r.violation ? ", stopped at the first violation" : r.complete ? `, search complete${r.distinctStates !== null ? hashed.complete : ""}` : ", search NOT complete (--runs limit reached)"}`,
  );
  L.push(`  IPIs per call ${r.ipisPerCall}, callers serialised ${r.serialisedNs} ns on average`);
  if (!r.violation) {
    L.push(
      `  no violation found${r.strategy === "dfs" && r.complete ? (r.distinctStates !== null ? hashed.none : ": none exists within the bounds") : ""}`,
    );
  } else {
    const v = r.violation;
    L.push(`  VIOLATION (${v.kind}) on schedule ${v.scheduleNumber}${faultsText(v, r.faultBound)}:`);
    L.push(...v.message.split("\n").map((l) => `    ${l}`));
    L.push(`  schedule: ${v.schedule}`);
    L.push(`  replay:   npx smpcall replay --schedule ${v.schedule} --trace counterexample.json`);
  }
  return L.join("\n");
}

/** `smpcall explore`: search schedules of a scenario for deadlocks, lost/duplicated calls, invariant failures. */
export function registerExploreCommand(program: Command, io: CliIo): void {
  program
    .command("explore")
    .description(
      "explore the schedules of a scenario under a call-data policy: deadlocks, lost or duplicated calls, early returns, livelocks",
    )
    .option(
      "--scenario <name|path>",
      `built-in (${SCENARIOS.map((s) => s.name).join(", ")}) or a module exporting a scenario (required unless --barriers)`,
    )
    .option("--arch <name|path>", "backend (default $SMPCALL_ARCH, else generic)")
    .option("--arch-opt <name=value>", "backend option (repeatable)", collect)
    .option("--cpus <n>", "CPUs (default: the scenario's)")
    .option("--calls <n>", "calls each CPU issues", "1")
    .option(
      "--policy <name>",
      `call-data policy: ${POLICIES.map((p) => p.name).join(", ")}, or all (a comparison table)`,
      "modern",
    )
    .addOption(
      new Option("--strategy <name>", "random walk, PCT, or bounded exhaustive depth-first search")
        .choices(["random", "pct", "dfs"])
        .default("dfs"),
    )
    .option(
      "--runs <n>",
      `schedules to try at most (default: ${DEFAULT_SAMPLED_RUNS} for random and pct; ${DEFAULT_DFS_RUNS} for dfs, which stops when complete)`,
    )
    .option("--max-steps <n>", "events per schedule before it counts as a livelock", "20000")
    .option("--seed <n>", "seed of the random and PCT strategies", "1")
    .option("--pct-depth <d>", "PCT: the bug depth targeted", "3")
    .option(
      "--preemption-bound <k>",
      "dfs: preemptions per schedule, or none (every interleaving)",
      String(DEFAULT_PREEMPTION_BOUND),
    )
    .option(
      "--fault-bound <n>",
      "dfs: injected faults per schedule (a backend's fault choices, e.g. sparc nackRate/wouldBlockRate); after n, the schedule's further fault choices are 'no fault'. A violation found is then real; 'none' is proved only for schedules with at most n faults (docs/explorer.md, Fault bounding). none: unbounded (dfs may never finish)",
      String(DEFAULT_FAULT_BOUND),
    )
    .option(
      "--no-symmetry",
      "dfs: key states as they are, not canonically under the scenario's declared CPU symmetry",
    )
    .option("--idle <mode>", `${IDLE_HELP} (default halt; a non-default mode is carried in the schedule)`)
    .option("--memory <model>", `${MEMORY_HELP} (default sc; a weak model is carried in the schedule)`)
    .option("--drop-barrier <name>", `${DROP_BARRIER_HELP}; carried in the schedule`, collect)
    .option(
      "--barriers",
      "list the barriers of the kernel model (and the backend's send fence, for --arch/--arch-opt/--cpus) and exit",
    )
    .option("--alloc-fail <p>", "probability that allocating call data fails (the thread's case: 1)", "1")
    .addOption(kernelOption())
    .option(
      "--html <file>",
      "write a self-contained HTML report: the counterexample's timeline (violation marked) and, with --policy all, the comparison chart",
    )
    .option(
      "--save-schedule <file>",
      "write the first violation's schedule to a replay file (JSON) for smpcall replay --schedule-file. After the run FILE holds this run's schedule or does not exist: a schedule file an earlier run left there is removed when the search starts; a FILE that holds anything else is refused (exit 2), never overwritten or removed",
    )
    .option(
      "--shard <i/n>",
      "dfs: search only shard i of n (0-based) of a deterministic split of the search; with --out",
    )
    .option("--out <file>", "with --shard: write the shard's result (JSON) for smpcall explore merge")
    .option(
      "--workers <n>",
      "dfs: split the search over n worker threads (the verdict, the counterexample and a complete search's distinct states depend neither on n nor on the threads' timing; the count of schedules run does, and after a violation the distinct states too)",
    )
    .option(
      "--max-states <n>",
      `with --workers: room for n distinct states in the state table the workers share (default ${DEFAULT_SHARED_STATES}; about 20-30 bytes each)`,
    )
    .option("--json", "print the result as one JSON object")
    .addHelpText(
      "after",
      "\nExit status: 0 no violation, 1 a violation was found (its schedule is printed), 2 usage error.\nReplay a schedule: smpcall replay --schedule S [--trace FILE]",
    )
    .action((flags: ExploreFlags) => {
      if (flags.barriers === true) {
        listBarriers(flags, io);
        return;
      }
      // Not a commander requiredOption: `explore merge FILE...` and `--barriers` have no scenario.
      if (flags.scenario === undefined)
        throw new UsageError("explore needs --scenario NAME|PATH (or --barriers to list the barriers)");
      checkOutputFiles(
        [
          { flag: "--html", file: flags.html },
          { flag: "--save-schedule", file: flags.saveSchedule },
        ],
        io.cwd,
        isScenarioPath(flags.scenario) ? [{ flag: "--scenario", file: flags.scenario }] : [],
        flags.json === true,
      );
      checkSaveScheduleFile(flags.saveSchedule, io);
      const { base, policies } = exploreBase(flags, io);
      const { scenario, cpus, calls, strategy } = base;
      if (flags.shard !== undefined || flags.workers !== undefined)
        return splitExplore(flags, io, { ...base, policy: policies[0] }, policies.length);
      // Not ignored in silence: a user who gave them expects a shard file or a bigger table.
      if (flags.out !== undefined)
        throw new UsageError("--out goes with --shard i/n (a shard's result for explore merge)");
      if (flags.maxStates !== undefined) throw new UsageError("--max-states goes with --workers N");
      const removed = removeStaleSchedule(flags.saveSchedule, io);
      const results: ExploreResult[] = [];
      for (const policy of policies) {
        let bar: SingleBar | null = null;
        const showBar = wantsProgress(io, flags.json === true);
        const before = results.map((r) => `${r.policy} ${r.violation ? r.violation.kind : "none found"}`);
        const onProgress =
          showBar || io.progress !== undefined
            ? (done: number, limit: number, states: number | null) => {
                if (done % 50 === 0)
                  io.progress?.(
                    `${before.length > 0 ? `${before.join(", ")}; ` : ""}explore ${policy.name}: ${done} schedule(s) explored${states !== null ? `, ${states} distinct states` : ""}; no verdict`,
                  );
                if (!showBar) return;
                if (bar === null) {
                  // dfs stops when complete, long before its limit: show counts, not a bar to the limit.
                  const format =
                    states === null
                      ? `${policy.name.padEnd(22)} [{bar}] {value}/{total} schedules`
                      : `${policy.name.padEnd(22)} {value} schedules, {states} distinct states, {duration_formatted}`;
                  bar = new SingleBar({ format, stream: process.stderr, hideCursor: true });
                  bar.start(limit, 0, { states: 0 });
                }
                if (done % 50 === 0) bar.update(done, { states: states ?? 0 });
              }
            : undefined;
        results.push(explore({ ...base, policy, onProgress }));
        if (bar !== null) (bar as SingleBar).stop();
      }
      const found = results.some((r) => r.violation !== null);
      if (flags.saveSchedule !== undefined) saveSchedule(flags.saveSchedule, results, io, removed);
      if (flags.html !== undefined) writeExploreHtml(flags.html, results, base, io);
      if (flags.json) {
        io.out(
          JSON.stringify(
            policies.length === 1
              ? withLeftOut(results[0], leftOutOf(base), strategy === "dfs")
              : withLeftOut(
                  { scenario: scenario.name, cpus, calls, strategy, results },
                  leftOutOf(base),
                  strategy === "dfs",
                ),
          ) + "\n",
        );
      } else if (policies.length === 1) {
        io.out(describeResult(results[0], leftOutOf(base)) + "\n");
      } else {
        io.out(policyTable(results, leftOutOf(base) === null, leftOutOf(base) ?? undefined) + "\n");
      }
      io.setExitCode(found ? 1 : 0);
    });
  program.commands
    .find((c) => c.name() === "explore")!
    .command("merge")
    .description(
      "combine the shard files of a split search (explore --shard i/n --out FILE) into one verdict",
    )
    .argument("<files...>", "the shards' result files")
    .option("--json", "print the merged result as one JSON object")
    .addHelpText(
      "after",
      "\nExit status: 0 no violation, 1 some shard found a violation, 2 bad or mismatched files.",
    )
    // The parent `explore` has a --json too, and commander gives it every --json on the line
    // (before or after `merge`): read both, or `explore merge --json` would print text.
    .action((files: string[], _opts: unknown, cmd: Command) => {
      refuseSearchOptions(cmd);
      mergeCommand(files, cmd.optsWithGlobals<{ json?: boolean }>().json === true, io);
    });
}

/**
 * `explore merge` reads everything from its files: a search option given with it (`explore merge
 * A B --policy naive`, before or after `merge`) would be ignored without a word, the verdict
 * then being for the shards' policy. Refused (UsageError) naming it.
 */
function refuseSearchOptions(merge: Command): void {
  const explore = merge.parent;
  if (explore === null) return;
  for (const o of explore.options) {
    const name = o.attributeName();
    if (name === "json" || explore.getOptionValueSource(name) !== "cli") continue;
    throw new UsageError(
      `${o.long} does not go with explore merge: the shard files carry their search (its scenario, policy, backend and bounds); merge takes only the files and --json`,
    );
  }
}

/** `explore --barriers`: every barrier of the kernel model, and the backend's send fence. */
function listBarriers(flags: ExploreFlags, io: CliIo): void {
  const arch = resolveArchDescriptor(flags.arch, io);
  const raw = parseArchOptPairs(flags.archOpt);
  const cpus = flags.cpus === undefined ? 2 : parseIntOption("--cpus", flags.cpus, MIN_CPUS, 8192);
  const names = machineBarrierNames(arch, parseArchOptions(arch.name, arch.options, raw), cpus);
  const rows = names.map((name) => {
    const k = KERNEL_BARRIERS.find((b) => b.name === name);
    return k
      ? { name, where: k.where, orders: k.orders }
      : {
          name,
          where: `backend ${arch.name}: its send-side fence before the IPI`,
          orders: "the queue writes before the IPI lands",
        };
  });
  if (flags.json === true) {
    io.out(JSON.stringify({ arch: arch.name, barriers: rows }) + "\n");
    return;
  }
  const w = Math.max(...rows.map((r) => r.name.length));
  const L = [`barriers of the kernel model (backend ${arch.name}); drop one with --drop-barrier NAME:`];
  for (const r of rows) L.push(`  ${r.name.padEnd(w)}  ${r.orders}`, `  ${"".padEnd(w)}  (${r.where})`);
  io.out(L.join("\n") + "\n");
}

/**
 * Is `text` a replay file `explore --save-schedule` writes: a JSON object with a `schedule`
 * string (`smpN,...`) and a `kind` string? (Any version's: the fields beside them may differ.)
 */
export function isSavedScheduleText(text: string): boolean {
  let j: unknown;
  try {
    j = JSON.parse(text);
  } catch {
    return false;
  }
  if (typeof j !== "object" || j === null || Array.isArray(j)) return false;
  const o = j as Record<string, unknown>;
  return typeof o.schedule === "string" && /^smp\d+,/.test(o.schedule) && typeof o.kind === "string";
}

/**
 * What is at the `--save-schedule` path now: nothing (or a file that holds nothing), a pipe or
 * device (written to as it is, never removed), a schedule file an earlier run wrote (removed
 * before the search: this run's replaces it only if it finds a violation), or something else.
 */
function savedScheduleState(file: string, io: CliIo): "none" | "special" | "schedule" | "other" {
  const full = path.resolve(io.cwd, file);
  let st: fs.Stats;
  try {
    st = fs.statSync(full);
  } catch {
    return "none";
  }
  if (!st.isFile()) return "special";
  if (st.size === 0) return "none";
  if (st.size > MAX_SCHEDULE_INPUT_BYTES) return "other";
  try {
    return isSavedScheduleText(fs.readFileSync(full, "utf8")) ? "schedule" : "other";
  } catch {
    return "other";
  }
}

/**
 * `--save-schedule FILE`, before any work: FILE must not hold anything but a schedule an earlier
 * run wrote (the run would overwrite it, or remove it when it finds no violation). Throws a
 * {@link UsageError} (exit 2) for any other file, touching nothing.
 */
function checkSaveScheduleFile(file: string | undefined, io: CliIo): void {
  if (file === undefined || savedScheduleState(file, io) !== "other") return;
  throw new UsageError(
    `bad --save-schedule "${file}": the file exists and is not a schedule file (the JSON explore --save-schedule writes); explore replaces such a file with this run's schedule, or removes it when the run finds no violation, and touches no other: give another file name, or move this one away first`,
  );
}

/**
 * `--save-schedule FILE`, once the search is about to start: remove a schedule an earlier run
 * left in FILE, so that after this run FILE holds this run's first violation or does not exist
 * (also when the run stops early). Returns whether one was removed.
 */
function removeStaleSchedule(file: string | undefined, io: CliIo): boolean {
  if (file === undefined || savedScheduleState(file, io) !== "schedule") return false;
  try {
    fs.unlinkSync(path.resolve(io.cwd, file));
  } catch (e) {
    throw new UsageError(
      `cannot remove --save-schedule file ${file}, the schedule an earlier run wrote, which this run must not leave behind: ${(e as Error).message}; remove it, or give another file name`,
    );
  }
  return true;
}

/**
 * `--save-schedule`: the first violation's schedule, as a replay file. Nothing to replay: no file
 * (a stale one was removed before the search, `removed`), and a note saying so.
 */
function saveSchedule(file: string, results: readonly ExploreResult[], io: CliIo, removed: boolean): void {
  const first = results.find((r) => r.violation !== null);
  if (!first) {
    io.err(
      `smpcall: no violation, so no schedule written to ${file}${removed ? " (the schedule an earlier run wrote there was removed, so that it is not taken for this run's)" : ""}\n`,
    );
    return;
  }
  const schedule = first.violation!.schedule;
  const { choiceOffsets: _o, choicesEnd: _e, ...spec } = decodeSchedule(schedule);
  writeOutputFile(
    "--save-schedule file",
    file,
    JSON.stringify({ schedule, kind: first.violation!.kind, ...spec }, null, 1) + "\n",
    io,
  );
}

/** `--html`: the first violation's timeline (replayed with a trace) and the policies' results. */
function writeExploreHtml(
  file: string,
  results: readonly ExploreResult[],
  base: Omit<ExploreConfig, "policy">,
  io: CliIo,
): void {
  const { scenario, cpus, calls, strategy } = base;
  const first = results.find((r) => r.violation !== null) ?? null;
  const decoded = first ? decodeSchedule(first.violation!.schedule) : null;
  // The schedule's own fault bound (absent: none), not the search's: random and pct have none.
  const run =
    first && decoded
      ? replay(
          { ...base, policy: getPolicy(first.policy), faultBound: decoded.faultBound },
          decoded.choices,
          true,
        )
      : null;
  const timeline = run
    ? buildTimeline(run.system.trace.records, cpus, run.outcome.deadlock)
    : buildTimeline([], cpus);
  const policiesData = results.map((r) => ({
    policy: r.policy,
    violation: r.violation ? `${r.violation.kind} after ${r.violation.scheduleNumber} schedule(s)` : null,
    schedules: r.schedules,
    complete: r.complete,
    ipisPerCall: r.ipisPerCall,
    serialisedNs: r.serialisedNs,
  }));
  writeHtmlFile(
    file,
    renderHtmlReport({
      title: `smpcall explore: ${scenario.name}, ${cpus} CPUs x ${calls}, ${strategy}${first ? `, counterexample under ${first.policy}` : ""}`,
      timeline,
      report: null,
      violation: first
        ? `${first.violation!.kind}: ${first.violation!.message}\nschedule: ${first.violation!.schedule}`
        : null,
      policies: policiesData,
    }),
    io,
  );
}

/**
 * The `--policy all` comparison table; `keyed`: the state key leaves out nothing of this search,
 * so a complete hashed search is a proof up to where waits fell between a program's steps (see
 * {@link keyLeavesOut}), said under the table when a verdict is `none: search complete`; else
 * `leftOut` names what it leaves out, said under the table when a verdict is `none: complete
 * (hashed)`.
 */
export function policyTable(results: readonly ExploreResult[], keyed = false, leftOut?: string): string {
  const r0 = results[0];
  const L = [
    `scenario ${r0.scenario}, ${r0.cpus} CPUs x ${r0.calls} call(s), strategy ${r0.strategy}${boundsText(r0) !== "" ? ` (${boundsText(r0).slice(2)})` : ""}`,
    "",
  ];
  L.push(
    `${"policy".padEnd(22)} ${"deadlock / violation".padEnd(34)} ${"exhaustive verdict".padEnd(22)} ${"IPIs/call".padStart(9)} ${"serialised ns".padStart(14)} ${"schedules".padStart(10)} ${"ms".padStart(7)}`,
  );
  for (const r of results) {
    const v = r.violation
      ? `${r.violation.kind} after ${r.violation.scheduleNumber} schedule(s)`
      : "none found";
    const verdict =
      r.strategy !== "dfs"
        ? "n/a (not exhaustive)"
        : r.violation
          ? "violation exists"
          : r.complete
            ? r.distinctStates !== null && !keyed
              ? "none: complete (hashed)"
              : "none: search complete"
            : "incomplete (limit)";
    L.push(
      `${r.policy.padEnd(22)} ${v.padEnd(34)} ${verdict.padEnd(22)} ${String(r.ipisPerCall).padStart(9)} ${String(r.serialisedNs).padStart(14)} ${String(r.schedules).padStart(10)} ${String(r.ms).padStart(7)}`,
    );
  }
  const hashedNone = results.some(
    (r) => r.strategy === "dfs" && r.complete && !r.violation && r.distinctStates !== null,
  );
  // The caveat the one-policy line says: the table's verdict alone claimed more.
  if (keyed && hashedNone) L.push("", `none: search complete${hashedVerdict(null).complete}`);
  if (!keyed && hashedNone)
    L.push(
      "",
      `none: complete (hashed): no violation in the states the hashed search met; the state key leaves out ${leftOut ?? "state of this search"}: not a proof (docs/explorer.md)`,
    );
  return L.join("\n");
}

/** What a worker thread of `explore --workers` is given. */
export interface ExploreWorkerData {
  readonly flags: ExploreFlags;
  readonly cwd: string;
  /** The state table and control words all workers share. */
  readonly shared: SharedSearch;
  /** The subtrees of the search ({@link splitSearch}, cut once by the main thread). */
  readonly subtrees: number[][];
}

/** `--shard i/n --out FILE` (one shard, written for merge) and `--workers N` (N shards in threads, merged). */
async function splitExplore(
  flags: ExploreFlags,
  io: CliIo,
  cfg: ExploreConfig,
  policies: number,
): Promise<void> {
  if (policies !== 1)
    throw new UsageError("--shard and --workers search one policy: give --policy NAME, not all");
  if (cfg.strategy !== "dfs") throw new UsageError("--shard and --workers split the dfs strategy only");
  if (flags.shard !== undefined && flags.workers !== undefined)
    throw new UsageError(
      "give --shard (one shard of a split search) or --workers (all shards here), not both",
    );
  if (flags.shard !== undefined) {
    if (flags.out === undefined)
      throw new UsageError("--shard needs --out FILE: where to write the shard's result for explore merge");
    if (flags.maxStates !== undefined)
      throw new UsageError("--max-states goes with --workers N (a shard keeps its own table)");
    // Not ignored in silence: the shard's --out file holds its violation's schedule.
    for (const [flag, given] of [
      ["--save-schedule", flags.saveSchedule],
      ["--html", flags.html],
    ] as const)
      if (given !== undefined)
        throw new UsageError(
          `${flag} does not go with --shard: the shard's --out file holds its violation's schedule; replay it with smpcall replay --schedule-file FILE (--html FILE for its timeline), or merge the shards first`,
        );
    checkOutputFiles([{ flag: "--out", file: flags.out }], io.cwd, [], flags.json === true);
    const { shard, shards } = parseShard(flags.shard);
    const r = exploreShard(
      {
        ...cfg,
        onProgress: (done, _limit, states) =>
          io.progress?.(
            `explore shard ${shard}/${shards}: ${done} schedule(s) explored, at least ${states ?? 0} distinct states (those on its subtrees' roots are counted at its end); no verdict`,
          ),
      },
      shard,
      shards,
    );
    writeOutputFile("--out file", flags.out, JSON.stringify(r, null, 1) + "\n", io);
    io.out(
      flags.json
        ? JSON.stringify(r) + "\n"
        : `explore shard ${shard}/${shards}: ${r.subtreesDone} of its subtrees searched (of ${r.subtrees} in all), ${r.schedules} schedule(s), ${r.distinctStates} distinct states, ${r.ms} ms, ${r.violation ? `VIOLATION (${r.violation.kind}) in subtree ${r.violation.subtree}` : r.complete ? "complete, no violation" : "NOT complete (--runs limit reached)"}; result in ${flags.out}\n`,
    );
    io.setExitCode(r.violation ? 1 : 0);
    return;
  }
  if (flags.out !== undefined) throw new UsageError("--out goes with --shard i/n");
  const n = parseIntOption("--workers", flags.workers!, 1, 64);
  const maxStates =
    flags.maxStates === undefined
      ? DEFAULT_SHARED_STATES
      : parseIntOption("--max-states", flags.maxStates, 1, 200_000_000);
  const removed = removeStaleSchedule(flags.saveSchedule, io);
  const t0 = performance.now();
  const shared = sharedSearch(cfg, maxStates);
  const subtrees = splitSearch(cfg);
  const { Worker } = await import("node:worker_threads");
  const script = path.join(__dirname, "..", "explore-worker.js");
  // What Ctrl-C prints (on a terminal): how far the workers have got. Sent only when it changed:
  // progress renews the stall watch, so a worker stuck in a module's code must not look busy.
  let said = "";
  const tick = setInterval(() => {
    const p = sharedProgress(shared);
    const summary = `explore ${cfg.policy.name}, ${n} worker(s): ${p.schedules} schedule(s) explored, ${p.states} distinct states, ${p.subtreesDone} of ${subtrees.length} subtrees done; no verdict`;
    if (summary !== said) io.progress?.(summary);
    said = summary;
  }, 2000);
  // Each worker loads the user's modules anew: a load that never returns (a module that loops
  // once it was loaded before) stops the search after the stall limit instead of hanging it.
  const userModules = [
    ...(cfg.archModule !== undefined ? [chooseArchSpec(flags.arch, io.env)] : []),
    ...(flags.scenario !== undefined && isScenarioPath(flags.scenario) ? [flags.scenario] : []),
  ];
  const named = [
    ...(cfg.archModule !== undefined ? [`backend module ${userModules[0]}`] : []),
    ...(userModules.length > (cfg.archModule !== undefined ? 1 : 0)
      ? [`scenario module ${flags.scenario}`]
      : []),
  ];
  const loadLimitS = userModules.length > 0 ? stallTimeoutS(io.env) : null;
  const workers: InstanceType<typeof Worker>[] = [];
  // While workers load, that wait is bounded by their load watch: say so often enough that the
  // command's own stall watch (same limit) does not stop the command before the clearer error.
  let loaded = 0;
  const loadTick =
    loadLimitS === null
      ? null
      : setInterval(
          () =>
            io.progress?.(
              `explore ${cfg.policy.name}, ${n} worker(s): ${loaded} of ${n} have loaded the modules; no verdict`,
            ),
          250,
        );
  let parts: SharedPart[];
  try {
    parts = await Promise.all(
      Array.from(
        { length: n },
        (_, i) =>
          new Promise<SharedPart>((resolve, reject) => {
            const data: ExploreWorkerData = { flags, cwd: io.cwd, shared, subtrees };
            const w = new Worker(script, { workerData: data });
            workers.push(w);
            const loadTimer =
              loadLimitS === null
                ? null
                : setTimeout(() => {
                    stopSharedSearch(shared);
                    for (const x of workers) void x.terminate();
                    reject(
                      new ModuleLoadTimeoutError(
                        `${named.join(" or ")} did not finish loading within ${loadLimitS} s in explore worker ${i}, ` +
                          `which loads ${userModules.length > 1 ? "them" : "it"} anew (the command's own load returned): top-level code is running without returning, ` +
                          `e.g. an endless loop that depends on what an earlier load left behind (a global, a file, an environment variable); ` +
                          `search stopped, no verdict (make the module's top-level code do the same on every load; ${STALL_TIMEOUT_ENV} sets the limit)`,
                        userModules,
                        loadLimitS,
                      ),
                    );
                  }, loadLimitS * 1000);
            w.on("message", (m: { loaded?: true; part?: SharedPart; error?: string; usage?: boolean }) => {
              if (loadTimer !== null) clearTimeout(loadTimer);
              if (m.loaded === true) {
                if (++loaded === n && loadTick !== null) clearInterval(loadTick);
                return;
              }
              if (m.part) resolve(m.part);
              else
                reject(
                  m.usage === true
                    ? new UsageError(m.error ?? "no result")
                    : new Error(`explore worker ${i}: ${m.error ?? "no result"}`),
                );
            });
            w.once("error", (e) => {
              if (loadTimer !== null) clearTimeout(loadTimer);
              reject(e);
            });
          }),
      ),
    );
  } finally {
    clearInterval(tick);
    if (loadTick !== null) clearInterval(loadTick);
  }
  const r = finishSharedSearch(cfg, shared, parts, subtrees.length, performance.now() - t0);
  if (flags.saveSchedule !== undefined) saveSchedule(flags.saveSchedule, [r], io, removed);
  if (flags.html !== undefined) writeExploreHtml(flags.html, [r], cfg, io);
  io.out(
    flags.json
      ? JSON.stringify(withLeftOut(r, leftOutOf(cfg), true)) + "\n"
      : describeResult(r, leftOutOf(cfg), `${n} worker(s)`) + "\n",
  );
  io.setExitCode(r.violation ? 1 : 0);
}

/**
 * The distinct states of a merged split search: exact only when the bounds meet (one shard);
 * else both bounds, since shards keep their own tables and which states they share is not known.
 */
function mergedStates(m: MergedResult): string {
  if (m.distinctStatesAtLeast === m.distinctStatesAtMost) return `${m.distinctStatesAtMost} distinct states`;
  return `${m.distinctStatesAtLeast} to ${m.distinctStatesAtMost} distinct states (shards keep their own states: at least the most one shard met, at most their sum, which counts a state met by k shards k times)`;
}

/** What the state key leaves out for the search a shard's `run` names (see {@link keyLeavesOut}). */
function leftOutOfRun(run: string): string | null {
  // The run names the backend (`arch=NAME`, and `arch-module=PATH` for one loaded from a path)
  // and a scenario module (`scenario-module=PATH`).
  const arch = /(?:^|,)arch=([^,]*)/.exec(run)?.[1] ?? "?";
  return keyLeavesOut(arch, /(?:^|,)arch-module=/.test(run), /(?:^|,)scenario-module=/.test(run));
}

/** A merged split search, printed as explore prints a search. */
export function describeMerged(m: MergedResult, how: string): string {
  const L: string[] = [];
  L.push(`explore ${m.run} / dfs${boundsText(m)} / ${m.shards} shard(s), ${how}`);
  const hashed = hashedVerdict(leftOutOfRun(m.run));
  L.push(
    `  ${m.schedules} schedule(s), ${mergedStates(m)}, ${m.ms} ms (longest shard)${m.violation ? ", stopped at the first violation" : m.complete ? `, search complete${hashed.complete}` : ", search NOT complete"}`,
  );
  if (!m.violation)
    L.push(`  no violation found${m.complete ? hashed.none : " (not every shard is complete)"}`);
  else {
    const v = m.violation;
    L.push(`  VIOLATION (${v.kind}) in subtree ${v.subtree}${faultsText(v, m.faultBound)}:`);
    L.push(...v.message.split("\n").map((l) => `    ${l}`));
    L.push(`  schedule: ${v.schedule}`);
    L.push(`  replay:   npx smpcall replay --schedule ${v.schedule} --trace counterexample.json`);
  }
  return L.join("\n");
}

/** `smpcall explore merge FILE...`: one verdict from the shard files of a split search. */
export function mergeCommand(files: readonly string[], json: boolean, io: CliIo): void {
  const results = files.map((f) => {
    let text: string;
    try {
      text = readInputFile(path.resolve(io.cwd, f), io, {
        maxBytes: MAX_SCHEDULE_INPUT_BYTES,
        tooLargeHint:
          "a shard file is the result explore --shard i/n --out FILE wrote: is it the right file?",
      });
    } catch (e) {
      throw new UsageError(`shard file ${f} could not be read: ${describeInputError(e, f)}`);
    }
    let x: unknown;
    try {
      x = JSON.parse(text);
    } catch (e) {
      throw new UsageError(`shard file ${f} is not JSON (${jsonErrorText(e)}): corrupt or truncated?`);
    }
    return { name: f, result: checkShardResult(x, f) };
  });
  const m = mergeShards(results);
  io.out(
    json
      ? JSON.stringify(withLeftOut(m, leftOutOfRun(m.run), true)) + "\n"
      : describeMerged(m, `merged from ${files.length} file(s)`) + "\n",
  );
  io.setExitCode(m.violation ? 1 : 0);
}
