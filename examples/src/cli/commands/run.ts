import * as fs from "node:fs";
import * as path from "node:path";
import {
  UsageError,
  WORKLOADS,
  DEFAULT_WORKLOAD,
  MAX_OPS,
  formatRunReport,
  getWorkload,
  runWorkload,
  toChromeTrace,
  toFtraceText,
  TraceSink,
  type RunReport,
  type SmpSystem,
} from "@smpcall/core";
import { Option, type Command } from "commander";
import { SingleBar } from "cli-progress";
import {
  collect,
  parseArchOptPairs,
  parseChoice,
  parseCpus,
  parseIntOption,
  parseSeed,
  resolveArchDescriptor,
} from "../common";
import { wantsProgress, type CliIo } from "../io";
import { buildTimeline, renderHtmlReport } from "../../html";
import { writeHtmlFile } from "./report";

/** Options of `smpcall run`, as commander hands them over (all text). */
interface RunFlags {
  arch?: string;
  archOpt?: string[];
  cpus: string;
  workload: string;
  ops?: string;
  seed: string;
  idle: string;
  csdTimeoutMs: string;
  maxEvents?: string;
  trace?: string;
  traceFormat?: string;
  traceLimit: string;
  html?: string;
  json?: boolean;
}

/** Write a trace file in the chosen format; the format defaults from the extension (.json = chrome). */
export function writeTraceFile(
  file: string,
  format: string | undefined,
  trace: TraceSink,
  meta: { cpus: number; arch: string; seed: number; report?: RunReport; deadlock?: unknown },
  io: CliIo,
): string {
  const fmt = parseChoice("--trace-format", format ?? (file.endsWith(".json") ? "chrome" : "ftrace"), [
    "ftrace",
    "chrome",
  ] as const);
  const target = path.resolve(io.cwd, file);
  const text =
    fmt === "chrome" ? JSON.stringify(toChromeTrace(trace.records, meta)) : toFtraceText(trace.records, meta);
  try {
    fs.writeFileSync(target, text);
  } catch (e) {
    throw new UsageError(`cannot write trace file ${file}: ${(e as Error).message}`);
  }
  return fmt;
}

/** `smpcall run`: run a workload on a simulated machine and print the report. */
export function registerRunCommand(program: Command, io: CliIo): void {
  program
    .command("run")
    .description("run a cross-call workload on a simulated machine and print a report")
    .option(
      "--arch <name|path>",
      "backend: a name (package @smpcall/arch-NAME) or a module path; default $SMPCALL_ARCH, else generic",
    )
    .option("--arch-opt <name=value>", "backend option (repeatable); see `smpcall archs`", collect)
    .option("--cpus <n>", "number of CPUs, 2..8192", "8")
    .addOption(
      new Option("--workload <name>", "workload")
        .choices(WORKLOADS.map((w) => w.name))
        .default(DEFAULT_WORKLOAD),
    )
    .option(
      "--ops <n>",
      `cross-call operations the workload issues, 1..${MAX_OPS} (default: per workload and CPU count)`,
    )
    .option("--seed <n>", "seed of every random choice, 0..4294967295; same seed, same output", "1")
    .addOption(
      new Option("--idle <mode>", "idle CPUs halt (IPI needed) or poll need_resched (no IPI)")
        .choices(["halt", "poll"])
        .default("halt"),
    )
    .option("--csd-timeout-ms <ms>", "CSD lock-wait watchdog timeout in simulated ms, 0 = off", "5000")
    .option("--max-events <n>", "stop after this many events (reported as a step-limit problem)")
    .option("--trace <file>", "write a trace of the run")
    .addOption(
      new Option(
        "--trace-format <format>",
        "trace format (default: chrome for .json files, else ftrace)",
      ).choices(["ftrace", "chrome"]),
    )
    .option("--trace-limit <n>", "keep at most this many trace records", "2000000")
    .option("--html <file>", "write a self-contained HTML timeline report")
    .option("--json", "print the report as one JSON object on stdout")
    .addHelpText(
      "after",
      `\nWorkloads:\n${WORKLOADS.map((w) => `  ${w.name.padEnd(14)} ${w.description}`).join("\n")}\n\nExit status: 0 ok, 1 the run found a problem (deadlock, stuck CSD, lost call, arch error), 2 usage error.`,
    )
    .action((flags: RunFlags) => {
      const cpus = parseCpus(flags.cpus);
      const workload = getWorkload(flags.workload);
      const ops = flags.ops === undefined ? undefined : parseIntOption("--ops", flags.ops, 1, MAX_OPS);
      const seed = parseSeed(flags.seed);
      const csdLockTimeoutMs = parseIntOption("--csd-timeout-ms", flags.csdTimeoutMs, 0, 3_600_000);
      const maxEvents =
        flags.maxEvents === undefined
          ? undefined
          : parseIntOption("--max-events", flags.maxEvents, 1, Number.MAX_SAFE_INTEGER);
      const traceLimit = parseIntOption("--trace-limit", flags.traceLimit, 1, 100_000_000);
      if (flags.traceFormat !== undefined && flags.trace === undefined)
        throw new UsageError("--trace-format needs --trace FILE");
      const arch = resolveArchDescriptor(flags.arch, io);
      const archOptions = parseArchOptPairs(flags.archOpt);
      const trace = new TraceSink(flags.trace !== undefined || flags.html !== undefined, traceLimit);
      const idle = parseChoice("--idle", flags.idle, ["halt", "poll"] as const);
      let bar: SingleBar | null = null;
      let total = 0;
      const onProgress = wantsProgress(io, flags.json === true)
        ? (_events: number, m: SmpSystem["machine"]) => {
            if (bar === null) {
              total = m.unfinishedPrograms;
              bar = new SingleBar({
                format: "running [{bar}] {percentage}% | {value}/{total} programs | {events} events",
                stream: process.stderr,
                hideCursor: true,
              });
              bar.start(Math.max(1, total), 0, { events: 0 });
            }
            bar.update(total - m.unfinishedPrograms, { events: m.eventsDispatched });
          }
        : undefined;
      const { report, outcome } = runWorkload({
        cpus,
        seed,
        arch,
        archOptions,
        workload: workload.name,
        ops,
        idle,
        csdLockTimeoutMs,
        trace,
        maxEvents,
        onProgress,
      });
      if (bar !== null) (bar as SingleBar).stop();
      let traceNote = "";
      if (flags.trace !== undefined) {
        const fmt = writeTraceFile(
          flags.trace,
          flags.traceFormat,
          trace,
          { cpus, arch: arch.name, seed, report, deadlock: outcome.deadlock },
          io,
        );
        traceNote = `trace: ${trace.records.length} records written to ${flags.trace} (${fmt})${trace.dropped ? `, ${trace.dropped} dropped over --trace-limit` : ""}\n`;
      }
      if (flags.html !== undefined) {
        writeHtmlFile(
          flags.html,
          renderHtmlReport({
            title: `smpcall run: ${workload.name} on ${arch.name}, ${cpus} CPUs, seed ${seed}`,
            timeline: buildTimeline(trace.records, cpus, outcome.deadlock),
            report,
          }),
          io,
        );
        traceNote += `html: report written to ${flags.html}\n`;
      }
      printReport(io, report, flags.json === true, traceNote, flags.trace, trace.dropped);
      io.setExitCode(report.problems.length > 0 ? 1 : 0);
    });
}

function printReport(
  io: CliIo,
  report: RunReport,
  json: boolean,
  traceNote: string,
  traceFile: string | undefined,
  dropped: number,
): void {
  if (json) {
    io.out(JSON.stringify(traceFile ? { ...report, trace: { file: traceFile, dropped } } : report) + "\n");
  } else {
    io.out(formatRunReport(report) + traceNote);
  }
}
