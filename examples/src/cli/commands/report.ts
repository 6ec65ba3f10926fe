import * as path from "node:path";
import { MAX_CPUS, UsageError, describeValue, type ChromeTrace } from "@smpcall/core";
import type { Command } from "commander";
import { htmlDataFromChrome, renderHtmlReport } from "../../html";
import { MAX_TRACE_INPUT_BYTES, describeInputError, readInputFile, type CliIo } from "../io";
import { checkOutputFiles, writeOutputFile } from "../output-path";

/** Write `html` to `file` (relative to io.cwd), as a usage error when it cannot be written. */
export function writeHtmlFile(file: string, html: string, io: CliIo): void {
  writeOutputFile("HTML report", file, html, io);
}

/**
 * `json` as a Chrome-format smpcall trace, checked: an object with `metadata.cpus` (an integer
 * 1..8192) and a `traceEvents` array of events with a phase, a time and a thread; anything else
 * is a UsageError saying the file is not an smpcall trace and what is wrong with it.
 */
export function checkSmpcallTrace(json: unknown, file: string): ChromeTrace {
  const not: (why: string) => never = (why) => {
    throw new UsageError(
      `${file} is not an smpcall trace: ${why} (report reads the Chrome-format trace of run --trace x.json or replay --trace x.json)`,
    );
  };
  if (typeof json !== "object" || json === null || Array.isArray(json))
    not(
      `it holds ${Array.isArray(json) ? "an array" : describeValue(json)}, not an object with traceEvents and metadata`,
    );
  const t = json as Record<string, unknown>;
  const meta = t.metadata as Record<string, unknown> | undefined;
  if (typeof meta !== "object" || meta === null || Array.isArray(meta)) not("it has no metadata object");
  const cpus = meta.cpus;
  if (typeof cpus !== "number" || !Number.isInteger(cpus) || cpus < 1 || cpus > MAX_CPUS)
    not(`metadata.cpus is ${describeValue(cpus)}, not a CPU count 1..${MAX_CPUS}`);
  if (!Array.isArray(t.traceEvents)) not("it has no traceEvents array");
  const events = t.traceEvents as unknown[];
  for (let i = 0; i < events.length; i++) {
    const e = events[i] as Record<string, unknown> | null;
    if (
      typeof e !== "object" ||
      e === null ||
      typeof e.ph !== "string" ||
      typeof e.ts !== "number" ||
      !Number.isFinite(e.ts) ||
      typeof e.tid !== "number" ||
      !Number.isInteger(e.tid) ||
      e.tid < 0 ||
      (e.name !== undefined && typeof e.name !== "string")
    )
      not(`traceEvents[${i}] is ${describeValue(e)}, not an event with ph, ts and tid`);
  }
  return json as ChromeTrace;
}

/** `smpcall report`: a self-contained HTML timeline from a saved Chrome-format trace. */
export function registerReportCommand(program: Command, io: CliIo): void {
  program
    .command("report")
    .description(
      "write a self-contained HTML timeline report from a Chrome-format trace saved by `run --trace x.json` or `replay --trace x.json`",
    )
    .requiredOption("--trace <file>", "the Chrome trace (.json)")
    .requiredOption("--out <file>", "the HTML file to write")
    .action((flags: { trace: string; out: string }) => {
      checkOutputFiles([{ flag: "--out", file: flags.out }], io.cwd, [
        { flag: "--trace", file: flags.trace },
      ]);
      let text: string;
      try {
        text = readInputFile(path.resolve(io.cwd, flags.trace), io, {
          maxBytes: MAX_TRACE_INPUT_BYTES,
          tooLargeHint: "trace a shorter run, or keep its end with --trace-limit N",
        });
      } catch (e) {
        throw new UsageError(`cannot read trace ${flags.trace}: ${describeInputError(e, flags.trace)}`);
      }
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        throw new UsageError(
          `${flags.trace} is not an smpcall trace: it is not JSON (report reads the Chrome-format trace of run --trace x.json or replay --trace x.json; an ftrace text trace cannot be drawn)`,
        );
      }
      const trace = checkSmpcallTrace(json, flags.trace);
      let data;
      try {
        data = htmlDataFromChrome(trace, `smpcall report: ${path.basename(flags.trace)}`);
      } catch (e) {
        throw new UsageError(`${flags.trace}: ${(e as Error).message}`);
      }
      writeHtmlFile(flags.out, renderHtmlReport(data), io);
      io.out(
        `report: ${data.timeline.spans.lane.length} spans, ${data.timeline.arrows.from.length} IPI arrows written to ${flags.out}\n`,
      );
    });
}
