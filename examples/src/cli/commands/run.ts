import {
  UsageError,
  WORKLOADS,
  DEFAULT_WORKLOAD,
  MAX_OPS,
  formatRunReport,
  getWorkload,
  runWorkload,
  IDLE_MODES,
  TraceSink,
  ftraceEvents,
  type FtraceMeta,
  type RunReport,
  type SmpSystem,
} from "@smpcall/core";
import { Option, type Command } from "commander";
import { SingleBar } from "cli-progress";
import {
  DROP_BARRIER_HELP,
  IDLE_HELP,
  MEMORY_HELP,
  parseDropBarriers,
  parseMemory,
  collect,
  parseArchOptPairs,
  parseChoice,
  parseCpus,
  kernelOption,
  parseIntOption,
  parseKernel,
  parseSeed,
  resolveArchDescriptor,
} from "../common";
import { wantsProgress, type CliIo } from "../io";
import { buildTimeline, renderHtmlReport, TimelineBuilder } from "../../html";
import { TraceFileWriter, type TraceFormat } from "../trace-file";
import { writeHtmlFile } from "./report";
import { checkOutputFiles } from "../output-path";

/** Options of `smpcall run`, as commander hands them over (all text). */
interface RunFlags {
  arch?: string;
  archOpt?: string[];
  cpus: string;
  workload: string;
  ops?: string;
  seed: string;
  idle: string;
  kernel: string;
  lockdep?: boolean;
  memory?: string;
  dropBarrier?: string[];
  csdTimeoutMs: string;
  maxEvents?: string;
  trace?: string;
  traceFormat?: string;
  traceLimit?: string;
  html?: string;
  json?: boolean;
}

/** The trace format of `file`: `--trace-format`, else chrome for .json files, else ftrace. */
export function traceFormatFor(file: string, format: string | undefined): TraceFormat {
  return parseChoice("--trace-format", format ?? (file.endsWith(".json") ? "chrome" : "ftrace"), [
    "ftrace",
    "chrome",
  ] as const);
}

/**
 * Write the records a sink kept to a trace file in the chosen format (the format defaults from the
 * extension: .json = chrome). A sink that overwrote old records (a `limit`) says so: the ftrace
 * header's entries-in-buffer/entries-written, the Chrome metadata's `trace`. Under a kernel
 * profile (`meta.kernel`) an ftrace file holds only the events that kernel has on the arch
 * (`ftrace` says which the arch has, and whether the irq-flags events exist). Returns the
 * writer, whose counts say what the file holds.
 */
export function writeTraceFile(
  file: string,
  format: string | undefined,
  trace: TraceSink,
  meta: {
    cpus: number;
    arch: string;
    seed: number;
    kernel?: string;
    report?: RunReport;
    deadlock?: unknown;
  },
  io: CliIo,
  ftrace: Pick<FtraceMeta, "archTracepoints" | "irqFlagsTracepoints"> = {},
): TraceFileWriter {
  const fmt = traceFormatFor(file, format);
  const writer = new TraceFileWriter(file, fmt, meta, io, ftrace);
  for (const r of trace.records) writer.add(r);
  writer.end(withTraceCounts(meta, trace), trace.written);
  return writer;
}

/**
 * The line `run` prints about its trace file: the records the file holds (not the events the run
 * emitted: an ftrace file under a kernel profile leaves out the events that kernel has no
 * tracepoint for, and says how many), and what a ring buffer overwrote.
 */
export function traceNoteLine(
  file: string,
  writer: TraceFileWriter,
  trace: TraceSink,
  kernel: string,
  arch: string,
  limit: number | undefined,
): string {
  const left = writer.recordsLeftOut + trace.leftOut;
  const dropped = trace.dropped;
  return `trace: ${writer.recordsWritten} records written to ${file} (${writer.format})${
    left > 0
      ? `; ${left} events left out that kernel ${kernel} has no tracepoint for on ${arch} (--trace-format chrome keeps every event)`
      : ""
  }${dropped > 0 ? `, ${dropped} older records overwritten (--trace-limit ${limit} keeps the last ${limit})` : ""}\n`;
}

/** The Chrome metadata, with the ring buffer's counts when the sink has a limit. */
function withTraceCounts<T extends object>(meta: T, trace: TraceSink): T {
  return trace.limit === Number.POSITIVE_INFINITY
    ? meta
    : {
        ...meta,
        trace: { limit: trace.limit, entriesInBuffer: trace.records.length, entriesWritten: trace.written },
      };
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
    .addOption(new Option("--idle <mode>", IDLE_HELP).choices([...IDLE_MODES]).default("halt"))
    .addOption(kernelOption())
    .option(
      "--lockdep",
      "kernel built with lockdep: its assertions fire (e.g. _many_cond with interrupts off)",
    )
    .option(
      "--csd-timeout-ms <ms>",
      "CSD lock-wait watchdog (CONFIG_CSD_LOCK_WAIT_DEBUG) timeout in simulated ms; 0 = a kernel without it",
      "5000",
    )
    .option(
      "--memory <model>",
      `${MEMORY_HELP} (default sc; the weak models are for small runs: every load is a choice)`,
    )
    .option("--drop-barrier <name>", DROP_BARRIER_HELP, collect)
    .option("--max-events <n>", "stop after this many events (reported as a step-limit problem)")
    .option("--trace <file>", "write a trace of the run")
    .addOption(
      new Option(
        "--trace-format <format>",
        "trace format (default: chrome for .json files, else ftrace)",
      ).choices(["ftrace", "chrome"]),
    )
    .option(
      "--trace-limit <n>",
      "keep only the last N trace records, like the kernel's ring buffer (default: all, streamed to the file)",
    )
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
      const traceLimit =
        flags.traceLimit === undefined
          ? undefined
          : parseIntOption("--trace-limit", flags.traceLimit, 1, 100_000_000);
      if (flags.traceFormat !== undefined && flags.trace === undefined)
        throw new UsageError("--trace-format needs --trace FILE");
      if (traceLimit !== undefined && flags.trace === undefined && flags.html === undefined)
        throw new UsageError("--trace-limit needs --trace FILE or --html FILE (it limits what they keep)");
      const traceFormat = flags.trace === undefined ? null : traceFormatFor(flags.trace, flags.traceFormat);
      checkOutputFiles(
        [
          { flag: "--trace", file: flags.trace },
          { flag: "--html", file: flags.html },
        ],
        io.cwd,
        [],
        flags.json === true,
      );
      const arch = resolveArchDescriptor(flags.arch, io);
      const archOptions = parseArchOptPairs(flags.archOpt);
      // Without --trace-limit, records stream to the trace file and the timeline as they happen
      // and none is kept; with it, a ring buffer keeps the last N and they are written at the end.
      const kernel = parseKernel(flags.kernel);
      const head = { cpus, arch: arch.name, seed, kernel };
      // What the profile's ftrace export needs: the arch's tracepoints, and lockdep (which brings
      // CONFIG_TRACE_IRQFLAGS and with it the irq_disable/irq_enable events).
      const ftraceFacts = { archTracepoints: arch.tracepoints, irqFlagsTracepoints: flags.lockdep === true };
      let file: TraceFileWriter | null = null;
      let timeline: TimelineBuilder | null = null;
      let trace: TraceSink;
      // The sinks the trace file and the HTML timeline read: the run's own, except for a limited
      // ftrace file beside --html (see below).
      let fileTrace: TraceSink | null = null;
      let htmlTrace: TraceSink | null = null;
      if (flags.trace === undefined && flags.html === undefined) trace = new TraceSink(false);
      else if (traceLimit !== undefined && traceFormat === "ftrace" && flags.html !== undefined) {
        // An ftrace ring buffer holds only the events the kernel has, the HTML report wants all:
        // one ring buffer each, so --html does not change the file, its counts or the note.
        const ftraceRing = new TraceSink(true, traceLimit).keepOnly(
          ftraceEvents({ ...head, ...ftraceFacts }),
        );
        const htmlRing = new TraceSink(true, traceLimit);
        fileTrace = ftraceRing;
        htmlTrace = htmlRing;
        trace = new TraceSink(true, Number.POSITIVE_INFINITY, (r) => {
          const state = { irqsDisabled: r.irqsOff, hardirqDepth: r.hardirq, idle: r.idle };
          ftraceRing.emit(r.ts, r.cpu, state, r.name, r.fields, r.flow);
          htmlRing.emit(r.ts, r.cpu, state, r.name, r.fields, r.flow);
        });
      } else if (traceLimit !== undefined) {
        trace = new TraceSink(true, traceLimit);
        // An ftrace ring buffer holds only the events the kernel has.
        if (traceFormat === "ftrace") trace.keepOnly(ftraceEvents({ ...head, ...ftraceFacts }));
      } else {
        if (flags.trace !== undefined)
          file = new TraceFileWriter(flags.trace, traceFormat!, head, io, ftraceFacts);
        if (flags.html !== undefined) timeline = new TimelineBuilder(cpus);
        const f = file;
        const t = timeline;
        trace = new TraceSink(true, Number.POSITIVE_INFINITY, (r) => {
          if (f !== null) f.add(r);
          if (t !== null) t.add(r);
        });
      }
      const idle = parseChoice("--idle", flags.idle, IDLE_MODES);
      const memory = parseMemory(flags.memory);
      const dropBarriers = parseDropBarriers(flags.dropBarrier, arch, archOptions, cpus);
      let bar: SingleBar | null = null;
      let total = 0;
      const showBar = wantsProgress(io, flags.json === true);
      const onProgress =
        showBar || io.progress !== undefined
          ? (_events: number, m: SmpSystem["machine"]) => {
              io.progress?.(
                `run ${workload.name} on ${cpus} CPUs: ${m.eventsDispatched} events, ${m.now} ns simulated, ${m.unfinishedPrograms} program(s) still running; no report`,
              );
              if (!showBar) return;
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
      let run: ReturnType<typeof runWorkload>;
      try {
        run = runWorkload({
          cpus,
          seed,
          arch,
          archOptions,
          workload: workload.name,
          ops,
          idle,
          kernel,
          lockdep: flags.lockdep === true,
          memory,
          dropBarriers,
          csdLockTimeoutMs,
          trace,
          maxEvents,
          onProgress,
        });
      } catch (e) {
        file?.abandon();
        throw e;
      }
      const { report, outcome } = run;
      if (bar !== null) (bar as SingleBar).stop();
      let traceNote = "";
      const forFile = fileTrace ?? trace;
      const forHtml = htmlTrace ?? trace;
      if (flags.trace !== undefined) {
        const meta = { ...head, report, deadlock: outcome.deadlock };
        let writer = file;
        if (writer === null)
          writer = writeTraceFile(flags.trace, traceFormat!, forFile, meta, io, ftraceFacts);
        else writer.end(meta, forFile.written);
        traceNote = traceNoteLine(flags.trace, writer, forFile, kernel, arch.name, traceLimit);
      }
      if (flags.html !== undefined) {
        writeHtmlFile(
          flags.html,
          renderHtmlReport({
            title: `smpcall run: ${workload.name} on ${arch.name}, ${cpus} CPUs, seed ${seed}`,
            timeline:
              timeline !== null
                ? timeline.finish(outcome.deadlock)
                : buildTimeline(forHtml.records, cpus, outcome.deadlock, forHtml.dropped > 0),
            report,
          }),
          io,
        );
        // A limited timeline says so, as the trace file's line does (the HTML itself marks it too).
        traceNote += `html: report written to ${flags.html}${
          timeline === null && forHtml.dropped > 0
            ? ` (its timeline holds the last ${traceLimit} events: ${forHtml.dropped} older ones overwritten by --trace-limit ${traceLimit})`
            : ""
        }\n`;
      }
      printReport(io, report, flags.json === true, traceNote, flags.trace, forFile.dropped);
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
