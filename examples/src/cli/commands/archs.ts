import { ARCH_ENV_VAR, DEFAULT_ARCH, describeAccepted, listArchs } from "@smpcall/core";
import type { Command } from "commander";
import type { CliIo } from "../io";

/** `smpcall archs [--json]`: the backends installed, with their options and capabilities. */
export function registerArchsCommand(program: Command, io: CliIo): void {
  program
    .command("archs")
    .description("list the arch backends found (packages @smpcall/arch-*), their options and capabilities")
    .option("--json", "print one JSON object on stdout")
    .addHelpText(
      "after",
      `\nThe backend of a run is --arch NAME|PATH, else $${ARCH_ENV_VAR}, else ${DEFAULT_ARCH}.\nAn out-of-tree backend is used by path: smpcall run --arch ./my-arch.js`,
    )
    .action((opts: { json?: boolean }) => {
      const archs = listArchs();
      if (opts.json) {
        io.out(
          JSON.stringify(
            {
              default: DEFAULT_ARCH,
              envVar: ARCH_ENV_VAR,
              archs: archs.map((d) => ({
                name: d.name,
                description: d.description,
                capabilities: d.capabilities,
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
        `${archs.length} backend(s) found (default ${DEFAULT_ARCH}; override with --arch or $${ARCH_ENV_VAR}):`,
        "",
      ];
      for (const d of archs) {
        const caps = Object.entries(d.capabilities)
          .map(([k, v]) => `${k}=${String(v)}`)
          .join(" ");
        L.push(`${d.name}${d.name === DEFAULT_ARCH ? " (default)" : ""}`);
        L.push(`  ${d.description}`);
        L.push(`  capabilities: ${caps}`);
        const entries = Object.entries(d.options);
        if (entries.length === 0) L.push("  options: none");
        else {
          L.push("  options (--arch-opt NAME=VALUE):");
          for (const [name, spec] of entries)
            L.push(
              `    ${name} = ${describeAccepted(spec)} (default ${String(spec.default) || '""'}): ${spec.description}`,
            );
        }
        L.push("");
      }
      io.out(L.join("\n"));
    });
}
