import * as path from "node:path";
import { UsageError } from "@smpcall/core";
import type { Command } from "commander";
import { writeScaffold } from "../../scaffold";
import type { CliIo } from "../io";

/** `smpcall new-arch NAME [--dir DIR]`: scaffold a backend package (see PORTING.md). */
export function registerNewArchCommand(program: Command, io: CliIo): void {
  program
    .command("new-arch")
    .description(
      "write a new backend package (package.json, src/index.ts with a working ArchIpi, the conformance test, tsconfig, README)",
    )
    .argument(
      "<name>",
      "the backend's name: lowercase letters, digits, . _ - (used as --arch NAME); not the name of an installed backend (generic, x86, powerpc, sparc: --arch NAME loads that one), nor ending in .js (--arch takes it for a path)",
    )
    .option("--dir <dir>", "where to write it (must not exist or be empty; default arch-NAME)")
    .addHelpText(
      "after",
      "\nThen: cd DIR && npm install && npm test (the conformance kit), and npx smpcall run --arch ./dist/index.js.\nThe PORT: comments in src/index.ts point at the sections of PORTING.md for each hardware quirk.",
    )
    .action((name: string, flags: { dir?: string }) => {
      if (flags.dir !== undefined && flags.dir.trim() === "")
        throw new UsageError(`bad --dir "${flags.dir}": give the folder to write the package to`);
      const r = writeScaffold(name, flags.dir, io.cwd);
      const rel = path.relative(io.cwd, r.dir);
      const shown = rel === "" ? "." : rel.startsWith("..") ? r.dir : rel;
      io.out(
        [
          `created ${shown}/ (package @smpcall/arch-${name}):`,
          ...r.files.map((f) => `  ${f}`),
          "",
          "next:",
          `  cd ${shown} && npm install && npm test     # builds nothing yet: jest runs the conformance kit on src/`,
          "  npm run build && npx smpcall run --arch ./dist/index.js --cpus 64 --workload broadcast",
          '  then fill in the "PORT:" places in src/index.ts (PORTING.md explains each)',
          "",
        ].join("\n"),
      );
    });
}
