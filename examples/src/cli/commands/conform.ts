import { UsageError, MAX_CPUS, MIN_CPUS, parseArchOptions } from "@smpcall/core";
import { CONFORMANCE_CHECKS, DEFAULT_CONFORMANCE_SIZES, runConformance } from "@smpcall/core/conformance";
import type { Command } from "commander";
import { collect, parseArchOptPairs, parseIntOption, resolveArchDescriptor } from "../common";
import type { CliIo } from "../io";

/** Parse `--cpus 2,3,64`. */
function parseCpuList(text: string): number[] {
  const parts = text
    .split(",")
    .map((p) => p.trim())
    .filter((p) => p !== "");
  if (parts.length === 0)
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
      "run the conformance kit against a backend: one row per check (pass / fail / skipped because of a capability)",
    )
    .option("--arch <name|path>", "backend (default $SMPCALL_ARCH, else generic)")
    .option("--arch-opt <name=value>", "backend option for every machine of the kit (repeatable)", collect)
    .option(
      "--cpus <list>",
      `machine sizes of the mask checks (default ${DEFAULT_CONFORMANCE_SIZES.join(",")})`,
    )
    .option("--schedules <n>", "random schedules to explore (default 25)")
    .option("--check <name>", "run only this check (repeatable)", collect)
    .option("--json", "print the results as one JSON object")
    .addHelpText(
      "after",
      `\nChecks:\n${CONFORMANCE_CHECKS.map((c) => `  ${c.name.padEnd(30)} ${c.description}`).join("\n")}\n\nExit status: 0 all checks pass, 1 a check failed, 2 usage error.`,
    )
    .action(
      (flags: {
        arch?: string;
        archOpt?: string[];
        cpus?: string;
        schedules?: string;
        check?: string[];
        json?: boolean;
      }) => {
        const descriptor = resolveArchDescriptor(flags.arch, io);
        const names = CONFORMANCE_CHECKS.map((c) => c.name);
        for (const c of flags.check ?? [])
          if (!names.includes(c)) throw new UsageError(`unknown check "${c}"; checks: ${names.join(", ")}`);
        const options = parseArchOptPairs(flags.archOpt);
        // A bad value is the user's mistake, not the backend's: refuse it once, as `run` does (exit 2).
        parseArchOptions(descriptor.name, descriptor.options, options);
        const kitOptions = {
          options,
          cpuSizes: flags.cpus === undefined ? undefined : parseCpuList(flags.cpus),
          schedules:
            flags.schedules === undefined
              ? undefined
              : parseIntOption("--schedules", flags.schedules, 1, 10_000),
        };
        // One check at a time, so that an interrupted kit can say how far it got.
        const selected = names.filter((n) => flags.check === undefined || flags.check.includes(n));
        const results: ReturnType<typeof runConformance> = [];
        for (const name of selected) {
          const passed = results.filter((r) => r.status === "pass").length;
          const failedSoFar = results.filter((r) => r.status === "fail").length;
          io.progress?.(
            `conform ${descriptor.name}: ${results.length} of ${selected.length} checks done (${passed} passed, ${failedSoFar} failed), ${name} running; no verdict`,
          );
          results.push(...runConformance(descriptor, { ...kitOptions, only: [name] }));
        }
        const failed = results.filter((r) => r.status === "fail").length;
        if (flags.json) {
          io.out(JSON.stringify({ arch: descriptor.name, options, passed: failed === 0, results }) + "\n");
        } else {
          const L = [
            `conformance kit: arch ${descriptor.name}${Object.keys(options).length ? ` ${JSON.stringify(options)}` : ""}`,
            "",
          ];
          for (const r of results) {
            L.push(`${r.status.toUpperCase().padEnd(8)}${r.name.padEnd(32)}${String(r.ms).padStart(6)} ms`);
            if (r.message) L.push(`        ${r.message.split("\n").join("\n        ")}`);
          }
          const count = (s: string) => results.filter((r) => r.status === s).length;
          L.push("", `${count("pass")} passed, ${failed} failed, ${count("skipped")} skipped (capability)`);
          io.out(L.join("\n") + "\n");
        }
        io.setExitCode(failed > 0 ? 1 : 0);
      },
    );
}
