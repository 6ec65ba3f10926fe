import {
  ARCH_ENV_VAR,
  ArchLoadError,
  UsageError,
  DEFAULT_ARCH,
  archIdleModes,
  capabilitiesFor,
  chooseArchSpec,
  describeAccepted,
  isModulePath,
  listArchs,
  loadArch,
  parseArchOptions,
  type ArchDescriptor,
} from "@smpcall/core";
import * as path from "node:path";
import type { Command } from "commander";
import type { CliIo } from "../io";

/** A capability or option value as a user reads it: objects as JSON, the empty string as "". */
export function formatValue(v: unknown): string {
  if (v === "") return '""';
  if (typeof v === "object" && v !== null) return JSON.stringify(v);
  return String(v);
}

/** `smpcall archs [--arch NAME|PATH] [--json]`: the backends installed (or one), with their options and capabilities. */
export function registerArchsCommand(program: Command, io: CliIo): void {
  program
    .command("archs")
    .description("list the arch backends found (packages @smpcall/arch-*), their options and capabilities")
    .option("--arch <name|path>", "describe only this backend (a name, or the path of an out-of-tree module)")
    .option("--json", "print one JSON object on stdout")
    .addHelpText(
      "after",
      `\nThe backend of a run is --arch NAME|PATH, else $${ARCH_ENV_VAR}, else ${DEFAULT_ARCH}.\nAn out-of-tree backend is used by path: smpcall run --arch ./my-arch.js; smpcall archs --arch ./my-arch.js describes it.`,
    )
    .action((opts: { arch?: string; json?: boolean }) => {
      const spec = chooseArchSpec(undefined, io.env);
      const fromEnv = (io.env[ARCH_ENV_VAR] ?? "").trim() !== "";
      const defaultSource = fromEnv ? `$${ARCH_ENV_VAR}` : "built-in";
      let archs: ArchDescriptor[];
      let defaultName = spec;
      if (opts.arch !== undefined) {
        archs = [loadArch(opts.arch, io.cwd)];
        if (isModulePath(spec) && path.resolve(io.cwd, spec) === path.resolve(io.cwd, opts.arch))
          defaultName = archs[0].name;
      } else {
        archs = listArchs();
        // A $SMPCALL_ARCH that names no backend is refused here, as every run would refuse it.
        if (!isModulePath(spec) && !archs.some((a) => a.name === spec)) {
          try {
            loadArch(spec, io.cwd);
          } catch (e) {
            if (!(e instanceof UsageError)) throw e;
            throw new ArchLoadError(`${e.message} (from $${ARCH_ENV_VAR}: set it to one, or unset it)`);
          }
        }
        if (isModulePath(spec)) {
          // $SMPCALL_ARCH names an out-of-tree module: it is the default, so list it too.
          const d = loadArch(spec, io.cwd);
          defaultName = d.name;
          if (!archs.some((a) => a.name === d.name)) archs.push(d);
        }
      }
      if (opts.json) {
        io.out(
          JSON.stringify(
            {
              default: spec,
              defaultSource,
              envVar: ARCH_ENV_VAR,
              archs: archs.map((d) => ({
                name: d.name,
                description: d.description,
                capabilities: capabilitiesFor(d, parseArchOptions(d.name, d.options, {})),
                idleModes: archIdleModes(d),
                idlePollingFlag: d.idlePollingFlag ?? true,
                options: d.options,
              })),
            },
            null,
            2,
          ) + "\n",
        );
        return;
      }
      const L: string[] = [
        opts.arch !== undefined
          ? `backend ${opts.arch}:`
          : `${archs.length} backend(s) found (default ${spec}${fromEnv ? ` from $${ARCH_ENV_VAR}` : ""}; override with --arch${fromEnv ? "" : ` or $${ARCH_ENV_VAR}`}):`,
        "",
      ];
      for (const d of archs) {
        // Capabilities that depend on the options are shown for the defaults.
        const caps = Object.entries(capabilitiesFor(d, parseArchOptions(d.name, d.options, {})))
          .map(([k, v]) => `${k}=${formatValue(v)}`)
          .join(" ");
        const isDefault = d.name === defaultName;
        L.push(`${d.name}${isDefault ? (fromEnv ? ` (default, from $${ARCH_ENV_VAR})` : " (default)") : ""}`);
        L.push(`  ${d.description}`);
        L.push(`  capabilities: ${caps}`);
        L.push(
          `  idle modes (--idle): ${archIdleModes(d).join(", ")}; idle polling flag (TIF_POLLING_NRFLAG): ${(d.idlePollingFlag ?? true) ? "yes" : "no, every call to an idle CPU sends an IPI"}`,
        );
        const entries = Object.entries(d.options);
        if (entries.length === 0) L.push("  options: none");
        else {
          L.push("  options (--arch-opt NAME=VALUE):");
          for (const [name, spec] of entries)
            L.push(
              `    ${name} = ${describeAccepted(spec)} (default ${formatValue(spec.default)}): ${spec.description}`,
            );
        }
        L.push("");
      }
      io.out(L.join("\n"));
    });
}
