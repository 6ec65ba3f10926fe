import * as fs from "node:fs";
import * as path from "node:path";
import {
  DEFAULT_KERNEL_PROFILE,
  IDLE_MODES,
  MEMORY_MODELS,
  MIN_CPUS,
  POLICIES,
  ScheduleMismatch,
  UsageError,
  decodeSchedule,
  getPolicy,
  isModulePath,
  loadArch,
  replay,
  type ArchDescriptor,
  type DecodedSchedule,
  type Scenario,
} from "@smpcall/core";
import type { Command } from "commander";
import {
  MAX_SCHEDULE_INPUT_BYTES,
  describeInputError,
  jsonErrorText,
  readInputFile,
  type CliIo,
} from "../io";
import { parseChoice, parseDropBarriers, parseIdle, parseMemory } from "../common";
import { writeTraceFile } from "./run";
import { writeHtmlFile } from "./report";
import { checkOutputFiles } from "../output-path";
import { buildTimeline, renderHtmlReport } from "../../html";
import { resolveScenario } from "./explore";
import { kernelOption, parseKernel } from "../common";

/**
 * The schedule string in a replay file: a file holding the string itself, or JSON with a
 * `schedule` field (`explore --save-schedule`), a `violation.schedule` (`explore --json`), or
 * `results[i].violation.schedule` (`explore --policy all --json`) when exactly one policy has one.
 */
export function readReplayFile(file: string, io: CliIo): string {
  const full = path.resolve(io.cwd, file);
  let text: string;
  try {
    text = readInputFile(full, io, {
      maxBytes: MAX_SCHEDULE_INPUT_BYTES,
      tooLargeHint:
        "a replay file holds one schedule (explore --save-schedule or --json): is it the right file?",
    });
  } catch (e) {
    throw new UsageError(`cannot read replay file ${file}: ${describeInputError(e, file)}`);
  }
  const t = text.trim();
  if (!t.startsWith("{")) return t;
  type WithViolation = { violation?: { schedule?: unknown } | null };
  let j: WithViolation & { schedule?: unknown; results?: unknown };
  try {
    j = JSON.parse(t) as typeof j;
  } catch (e) {
    throw new UsageError(`replay file ${file} is not valid JSON: ${jsonErrorText(e)}`);
  }
  let s = typeof j.schedule === "string" ? j.schedule : j.violation?.schedule;
  if (s === undefined && Array.isArray(j.results)) {
    // A comparison of policies: the one violation in it, or a clear refusal naming them.
    const found = (j.results as (WithViolation & { policy?: unknown })[]).filter(
      (r) => typeof r?.violation?.schedule === "string",
    );
    if (found.length !== 1)
      throw new UsageError(
        found.length === 0
          ? `replay file ${file} is a comparison of policies (explore --policy all --json) in which no policy has a violation: nothing to replay`
          : `replay file ${file} is a comparison of policies (explore --policy all --json) with ${found.length} violations (${found.map((r) => String(r.policy)).join(", ")}): write the one to replay with explore --policy NAME --json, or pass its schedule with --schedule`,
      );
    s = found[0].violation!.schedule;
  }
  if (typeof s !== "string")
    throw new UsageError(
      `replay file ${file} holds no schedule: expected a "schedule" field (explore --save-schedule) or "violation.schedule" (explore --json)`,
    );
  return s;
}

/** The scenario a schedule names: `--scenario` if given (it must have the same name), else its module or built-in name. */
function scenarioFor(s: DecodedSchedule, override: string | undefined, io: CliIo): Scenario {
  const spec = override ?? s.scenarioModule ?? s.scenario;
  if (override === undefined && s.scenarioModule !== undefined && !fs.existsSync(s.scenarioModule))
    throw new UsageError(
      `the schedule's scenario module ${s.scenarioModule} no longer exists: give its new location with --scenario PATH`,
    );
  const scenario = resolveScenario(spec, io);
  if (scenario.name !== s.scenario)
    throw new UsageError(
      `the schedule is for scenario ${s.scenario}, but ${spec} is scenario ${scenario.name}`,
    );
  // Explore keeps a scenario's runs within its CPU range; a schedule outside it was not written by explore.
  const min = scenario.minCpus ?? MIN_CPUS;
  const max = scenario.maxCpus ?? 64;
  if (s.cpus < min || s.cpus > max)
    throw new UsageError(
      `the schedule is for ${s.cpus} CPUs, but scenario ${scenario.name} runs on ${min}..${max} CPUs: explore writes no such schedule (altered by hand, or the scenario module changed); run smpcall explore again`,
    );
  return scenario;
}

/** The backend a schedule names: `--arch` if given (it must have the same name), else its module or package. */
function archFor(s: DecodedSchedule, override: string | undefined, io: CliIo): ArchDescriptor {
  if (override === undefined && s.archModule !== undefined && !fs.existsSync(s.archModule))
    throw new UsageError(
      `the schedule's backend module ${s.archModule} no longer exists: give its new location with --arch PATH`,
    );
  const spec = override ?? s.archModule ?? s.arch;
  if (override === undefined && s.archModule === undefined && isModulePath(spec))
    throw new UsageError(`the schedule's arch "${spec}" is not a backend name`);
  const arch = loadArch(spec, io.cwd);
  if (arch.name !== s.arch)
    throw new UsageError(`the schedule is for backend ${s.arch}, but ${spec} is backend ${arch.name}`);
  return arch;
}

/** `smpcall replay`: re-run one schedule printed by `explore`, exactly. */
export function registerReplayCommand(program: Command, io: CliIo): void {
  program
    .command("replay")
    .description(
      "re-run exactly the schedule printed by `smpcall explore` and report what happens (optionally with a trace)",
    )
    .option("--schedule <s>", "the schedule string printed by explore (smp2,scenario=...,sum=...)")
    .option(
      "--schedule-file <file>",
      "a replay file: the schedule string, or JSON from explore --save-schedule or explore --json",
    )
    .option(
      "--scenario <name|path>",
      "where the scenario module is now, if it moved (it must be the scenario the schedule names)",
    )
    .option(
      "--arch <name|path>",
      "where the backend is now, e.g. an out-of-tree module that moved (it must be the backend the schedule names)",
    )
    .addOption(
      kernelOption(
        null,
        "the kernel profile the schedule was explored under (6.1 or mainline); it is carried in the schedule, so this only checks it",
      ),
    )
    .option(
      "--idle <mode>",
      "the idle mode the schedule was explored with (halt, mwait, poll); it is carried in the schedule, so this only checks it",
    )
    .option(
      "--memory <model>",
      "the memory model the schedule was explored with (sc, tso, lkmm); it is carried in the schedule (with the dropped barriers), so this only checks it",
    )
    .option("--trace <file>", "write the run's trace (.json = Chrome/Perfetto, else ftrace)")
    .option("--html <file>", "write a self-contained HTML timeline with the violation marked")
    .option("--json", "print the result as one JSON object")
    .addHelpText(
      "after",
      "\nThe schedule carries everything the run needs: scenario (name or module), policy, backend (name or module) and its options, kernel profile, idle mode, memory model and dropped barriers, CPUs, calls, seed, allocation-failure rate, step limit and the choices; a truncated, over-long or altered schedule is refused.\nExit status: 0 the schedule runs clean, 1 it shows a violation, 2 usage error.",
    )
    .action(
      (flags: {
        schedule?: string;
        scheduleFile?: string;
        scenario?: string;
        arch?: string;
        kernel?: string;
        idle?: string;
        memory?: string;
        trace?: string;
        html?: string;
        json?: boolean;
      }) => {
        if ((flags.schedule === undefined) === (flags.scheduleFile === undefined))
          throw new UsageError("give exactly one of --schedule STRING and --schedule-file FILE");
        checkOutputFiles(
          [
            { flag: "--trace", file: flags.trace },
            { flag: "--html", file: flags.html },
          ],
          io.cwd,
          [{ flag: "--schedule-file", file: flags.scheduleFile }],
          flags.json === true,
        );
        const text = flags.schedule ?? readReplayFile(flags.scheduleFile!, io);
        const s = decodeSchedule(text);
        const idle =
          s.idle === undefined ? "halt" : parseChoice("idle field of the schedule", s.idle, IDLE_MODES);
        const asked = parseIdle(flags.idle);
        if (asked !== undefined && asked !== idle)
          throw new UsageError(
            `bad --idle "${asked}": this schedule was explored with idle ${idle} and replays only with it (leave --idle out)`,
          );
        // A policy by name: `all`, which explore takes, is no policy a schedule can hold.
        const policy = getPolicy(
          parseChoice(
            "policy field of the schedule",
            s.policy,
            POLICIES.map((p) => p.name),
          ),
        );
        const scenario = scenarioFor(s, flags.scenario, io);
        const arch = archFor(s, flags.arch, io);
        const kernel = s.kernel ?? DEFAULT_KERNEL_PROFILE;
        const askedKernel = flags.kernel === undefined ? undefined : parseKernel(flags.kernel);
        if (askedKernel !== undefined && askedKernel !== kernel)
          throw new UsageError(
            `bad --kernel "${askedKernel}": this schedule was explored under kernel ${kernel} and replays only under it (leave --kernel out)`,
          );
        const memory =
          s.memory === undefined
            ? "sc"
            : parseChoice("memory field of the schedule", s.memory, MEMORY_MODELS);
        const askedMemory = parseMemory(flags.memory);
        if (askedMemory !== undefined && askedMemory !== memory)
          throw new UsageError(
            `bad --memory "${askedMemory}": this schedule was explored under memory model ${memory} and replays only under it (leave --memory out)`,
          );
        const dropBarriers = parseDropBarriers(s.dropBarriers, arch, s.archOptions, s.cpus);
        let run;
        try {
          run = replay(
            {
              scenario,
              scenarioModule: s.scenarioModule,
              policy,
              arch,
              archModule: s.archModule,
              archOptions: s.archOptions,
              kernel,
              idle,
              memory,
              dropBarriers,
              cpus: s.cpus,
              calls: s.calls,
              seed: s.seed,
              allocFailRate: s.allocFailRate,
              maxSteps: s.maxSteps,
              faultBound: s.faultBound,
            },
            s.choices,
            flags.trace !== undefined || flags.html !== undefined,
            s.end,
          );
        } catch (e) {
          if (e instanceof ScheduleMismatch) {
            const at = e.index < s.choiceOffsets.length ? s.choiceOffsets[e.index] : s.choicesEnd;
            throw new UsageError(`bad schedule at character ${at}: ${e.message}`);
          }
          throw e;
        }
        if (flags.trace !== undefined)
          writeTraceFile(
            flags.trace,
            undefined,
            run.system.trace,
            { cpus: s.cpus, arch: arch.name, seed: s.seed, kernel, deadlock: run.outcome.deadlock },
            io,
            { archTracepoints: arch.tracepoints },
          );
        if (flags.html !== undefined)
          writeHtmlFile(
            flags.html,
            renderHtmlReport({
              title: `smpcall replay: ${s.scenario} / ${s.policy} / ${s.cpus} CPUs`,
              timeline: buildTimeline(run.system.trace.records, s.cpus, run.outcome.deadlock),
              report: null,
            }),
            io,
          );
        const v = run.violation;
        // Without an `end` field (a schedule made before it existed, or one whose field was cut
        // out) nothing says how the recorded run ended: the replay must not pass as checked.
        const endChecked = s.end !== undefined;
        const unchecked =
          'not checked against the run explore recorded: the schedule has no "end" field (made before smpcall wrote it, or cut out), so a changed backend, scenario or kernel model would go unnoticed; run smpcall explore again for a schedule replay can check';
        if (flags.json) {
          io.out(
            JSON.stringify({
              schedule: text.trim(),
              status: run.outcome.status,
              violation: v,
              timeNs: run.outcome.timeNs,
              endChecked,
            }) + "\n",
          );
        } else {
          io.out(
            `replay ${s.scenario} / policy ${s.policy} / ${arch.name} / kernel ${kernel} / ${s.cpus} CPUs x ${s.calls}: ${run.outcome.status} at ${run.outcome.timeNs} ns\n`,
          );
          io.out(
            v
              ? `  VIOLATION (${v.kind}):\n${v.message
                  .split("\n")
                  .map((l) => `    ${l}`)
                  .join("\n")}\n`
              : "  no violation\n",
          );
          if (!endChecked) io.out(`  ${unchecked}\n`);
          if (flags.trace) io.out(`  trace written to ${flags.trace}\n`);
        }
        io.setExitCode(v ? 1 : 0);
      },
    );
}
