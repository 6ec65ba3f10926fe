import * as fs from "node:fs";
import * as path from "node:path";
import { UsageError, type ChromeTrace } from "@smpcall/core";
import type { Command } from "commander";
import { htmlDataFromChrome, renderHtmlReport } from "../../html";
import type { CliIo } from "../io";

/** Write `html` to `file` (relative to io.cwd), as a usage error when it cannot be written. */
export function writeHtmlFile(file: string, html: string, io: CliIo): void {
  try {
    fs.writeFileSync(path.resolve(io.cwd, file), html);
  } catch (e) {
    throw new UsageError(`cannot write HTML report ${file}: ${(e as Error).message}`);
  }
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
      let trace: ChromeTrace;
      try {
        trace = JSON.parse(fs.readFileSync(path.resolve(io.cwd, flags.trace), "utf8")) as ChromeTrace;
      } catch (e) {
        throw new UsageError(
          `cannot read trace ${flags.trace}: ${String((e as Error).message).split("\n")[0]}`,
        );
      }
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
