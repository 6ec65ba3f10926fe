import { UsageError, decodeSchedule, getPolicy, replay, loadArch } from "@smpcall/core";
import type { Command } from "commander";
import { parseArchOptPairs, collect } from "../common";
import type { CliIo } from "../io";
import { writeTraceFile } from "./run";
import { writeHtmlFile } from "./report";
import { buildTimeline, renderHtmlReport } from "../../html";
import { resolveScenario } from "./explore";

/** `smpcall replay`: re-run one schedule printed by `explore`, exactly. */
export function registerReplayCommand(program: Command, io: CliIo): void {
  program
    .command("replay")
    .description(
      "re-run exactly the schedule printed by `smpcall explore` and report what happens (optionally with a trace)",
    )
    .requiredOption("--schedule <s>", "the schedule string (scenario/policy/arch/cpus/calls/seed/choices)")
    .option(
      "--scenario <name|path>",
      "the scenario, when it is a module path (built-in names come from the schedule)",
    )
    .option("--arch-opt <name=value>", "backend options used when exploring (repeatable)", collect)
    .option("--trace <file>", "write the run's trace (.json = Chrome/Perfetto, else ftrace)")
    .option("--html <file>", "write a self-contained HTML timeline with the violation marked")
    .option("--json", "print the result as one JSON object")
    .addHelpText("after", "\nExit status: 0 the schedule runs clean, 1 it shows a violation, 2 usage error.")
    .action(
      (flags: {
        schedule: string;
        scenario?: string;
        archOpt?: string[];
        trace?: string;
        html?: string;
        json?: boolean;
      }) => {
        const s = decodeSchedule(flags.schedule);
        const scenario = resolveScenario(flags.scenario ?? s.scenario, io);
        if (scenario.name !== s.scenario)
          throw new UsageError(
            `the schedule is for scenario ${s.scenario}, but --scenario gives ${scenario.name}`,
          );
        const arch = loadArch(s.arch, io.cwd);
        let run;
        try {
          run = replay(
            {
              scenario,
              policy: getPolicy(s.policy),
              arch,
              archOptions: parseArchOptPairs(flags.archOpt),
              cpus: s.cpus,
              calls: s.calls,
              seed: s.seed,
              maxSteps: 100_000_000,
            },
            s.choices,
            flags.trace !== undefined || flags.html !== undefined,
          );
        } catch (e) {
          if (e instanceof RangeError) throw new UsageError(`the schedule does not replay: ${e.message}`);
          throw e;
        }
        if (flags.trace !== undefined)
          writeTraceFile(
            flags.trace,
            undefined,
            run.system.trace,
            { cpus: s.cpus, arch: arch.name, seed: s.seed, deadlock: run.outcome.deadlock },
            io,
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
        if (flags.json) {
          io.out(
            JSON.stringify({
              schedule: flags.schedule,
              status: run.outcome.status,
              violation: v,
              timeNs: run.outcome.timeNs,
            }) + "\n",
          );
        } else {
          io.out(
            `replay ${s.scenario} / policy ${s.policy} / ${s.cpus} CPUs x ${s.calls}: ${run.outcome.status} at ${run.outcome.timeNs} ns\n`,
          );
          io.out(
            v
              ? `  VIOLATION (${v.kind}):\n${v.message
                  .split("\n")
                  .map((l) => `    ${l}`)
                  .join("\n")}\n`
              : "  no violation\n",
          );
          if (flags.trace) io.out(`  trace written to ${flags.trace}\n`);
        }
        io.setExitCode(v ? 1 : 0);
      },
    );
}
