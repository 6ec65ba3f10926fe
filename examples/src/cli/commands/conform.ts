import {
  UsageError,
  MAX_CPUS,
  MIN_CPUS,
  archLabel,
  checkArchIdleMode,
  chooseArchSpec,
  isModulePath,
  parseArchOptions,
} from "@smpcall/core";
import {
  CONFORMANCE_CHECKS,
  DEFAULT_CONFORMANCE_SIZES,
  type ConformanceResult,
} from "@smpcall/core/conformance";
import type { Command } from "commander";
import {
  IDLE_HELP,
  collect,
  kernelOption,
  parseArchOptPairs,
  parseIdle,
  parseIntOption,
  parseKernel,
  resolveArchDescriptor,
} from "../common";
import { wantsProgress, type CliIo } from "../io";
import { runKitInWorker } from "../kit-in-worker";
import { stallTimeoutS } from "../interrupt";

/** Default of `--check-timeout`: wall seconds a check may go without a result before it is failed. */
const DEFAULT_CHECK_TIMEOUT_S = 40;

/** Parse `--cpus 2,3,64`. */
function parseCpuList(text: string): number[] {
  const parts = text.split(",").map((p) => p.trim());
  if (parts.some((p) => p === ""))
    throw new UsageError(
      `bad --cpus "${text}": expected a comma-separated list of CPU counts ${MIN_CPUS}..${MAX_CPUS}, e.g. 2,3,64`,
    );
  return parts.map((p) => parseIntOption("--cpus", p, MIN_CPUS, MAX_CPUS));
}

/** `smpcall conform`: run the conformance kit against a backend. */
export function registerConformCommand(program: Command, io: CliIo): void {
  program
    .command("conform")
    .description(
      "run the conformance kit against a backend: one row per check (pass / fail / skipped: a capability the backend does not declare, or a machine size it refuses)",
    )
    .option("--arch <name|path>", "backend (default $SMPCALL_ARCH, else generic)")
    .option("--arch-opt <name=value>", "backend option for every machine of the kit (repeatable)", collect)
    .option(
      "--cpus <list>",
      `machine sizes of the mask checks (default ${DEFAULT_CONFORMANCE_SIZES.join(",")})`,
    )
    .option("--schedules <n>", "random schedules to explore (default 25)")
    .option("--idle <mode>", `${IDLE_HELP} (default halt, so idle targets need IPIs)`)
    .option("--check <name>", "run only this check (repeatable)", collect)
    .option(
      "--check-timeout <s>",
      `wall seconds a check may run without a result before it fails: catches a backend looping in code that never yields, which the event budget cannot stop (default ${DEFAULT_CHECK_TIMEOUT_S})`,
    )
    .addOption(kernelOption())
    .option("--json", "print the results as one JSON object")
    .addHelpText(
      "after",
      `\nChecks:\n${CONFORMANCE_CHECKS.map((c) => `  ${c.name.padEnd(30)} ${c.description}`).join("\n")}\n\nExit status: 0 all checks pass, 1 a check failed, 2 usage error.`,
    )
    .action(
      async (flags: {
        arch?: string;
        archOpt?: string[];
        cpus?: string;
        schedules?: string;
        idle?: string;
        check?: string[];
        checkTimeout?: string;
        kernel: string;
        json?: boolean;
      }) => {
        const kernel = parseKernel(flags.kernel);
        const descriptor = resolveArchDescriptor(flags.arch, io);
        const names = CONFORMANCE_CHECKS.map((c) => c.name);
        for (const c of flags.check ?? [])
          if (!names.includes(c)) throw new UsageError(`unknown check "${c}"; checks: ${names.join(", ")}`);
        const options = parseArchOptPairs(flags.archOpt);
        // A bad value is the user's mistake, not the backend's: refuse it once, as `run` does (exit 2).
        parseArchOptions(descriptor.name, descriptor.options, options);
        // Every flag is checked before the header is printed and the kit starts.
        const idle = parseIdle(flags.idle);
        // An idle mode the backend's kernel does not have is the user's mistake too: refused here
        // (exit 2), not by every check in the kit's worker (it made each of them "fail", exit 1).
        if (idle !== undefined) checkArchIdleMode(descriptor, archLabel(descriptor), idle);
        const cpuSizes = flags.cpus === undefined ? undefined : parseCpuList(flags.cpus);
        const schedules =
          flags.schedules === undefined
            ? undefined
            : parseIntOption("--schedules", flags.schedules, 1, 10_000);
        const hardLimitS =
          flags.checkTimeout === undefined
            ? DEFAULT_CHECK_TIMEOUT_S
            : parseIntOption("--check-timeout", flags.checkTimeout, 1, 86_400);
        // On a terminal each check shows as it starts; rows appear as checks end, so a slow or
        // stuck backend is visible at once (every check also runs under an event budget). The
        // progress line says how far an interrupted kit got. The kit runs in a worker thread
        // watched from this one (one runConformance call there: once a check runs out of its
        // budget, later checks get a smaller one); a check whose code never returns is failed
        // after --check-timeout and the kit goes on in a new worker.
        const live = wantsProgress(io, flags.json === true);
        const stream = flags.json !== true;
        const row = (r: ConformanceResult): string =>
          `${r.status.toUpperCase().padEnd(8)}${r.name.padEnd(32)}${String(r.ms).padStart(6)} ms\n${r.message ? `        ${r.message.split("\n").join("\n        ")}\n` : ""}`;
        if (stream)
          io.out(
            `conformance kit: arch ${descriptor.name}${Object.keys(options).length ? ` ${JSON.stringify(options)}` : ""}, kernel ${kernel}\n\n`,
          );
        const selected = names.filter((n) => flags.check === undefined || flags.check.includes(n));
        const done: ConformanceResult[] = [];
        const archSpec = chooseArchSpec(flags.arch, io.env);
        // Each of the kit's workers loads a backend module anew, under the stall limit.
        const loadLimitMs = isModulePath(archSpec) ? stallTimeoutS(io.env) * 1000 : null;
        // The backend is loaded: from here the kit's worker watches each check (--check-timeout).
        io.loaded?.();
        const results = await runKitInWorker(
          {
            archSpec,
            cwd: io.cwd,
            options: { options, kernel, idle, cpuSizes, schedules, only: flags.check },
          },
          selected,
          { hardLimitMs: hardLimitS * 1000, loadLimitMs },
          (name) => {
            const passed = done.filter((r) => r.status === "pass").length;
            const failedSoFar = done.filter((r) => r.status === "fail").length;
            io.progress?.(
              `conform ${descriptor.name}: ${done.length} of ${selected.length} checks done (${passed} passed, ${failedSoFar} failed), ${name} running; no verdict`,
            );
            if (live) io.out(`RUNNING ${name} ...`);
          },
          (r) => {
            done.push(r);
            // A check skipped for a capability never started; one that stopped at a machine size did.
            if (stream) io.out(`${live && r.skipReason !== "capability" ? "\r\x1b[2K" : ""}${row(r)}`);
          },
        );
        const failed = results.filter((r) => r.status === "fail").length;
        const notRun = results.filter((r) => r.skipReason === "machine-size").map((r) => r.name);
        if (flags.json) {
          io.out(
            JSON.stringify({
              arch: descriptor.name,
              options,
              kernel,
              passed: failed === 0,
              notRun,
              results,
            }) + "\n",
          );
        } else {
          const count = (s: string) => results.filter((r) => r.status === s).length;
          const capability = results.filter((r) => r.skipReason === "capability").length;
          io.out(
            `\n${count("pass")} passed, ${failed} failed, ${capability} skipped (capability)` +
              (notRun.length > 0
                ? `, ${notRun.length} not run (machine size the backend refuses with these options: ` +
                  `they check nothing here; run them with options that allow their size, or --cpus for the mask checks)`
                : "") +
              "\n",
          );
        }
        io.setExitCode(failed > 0 ? 1 : 0);
      },
    );
}
