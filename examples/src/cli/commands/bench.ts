import type { Command } from "commander";
import { runBenchSuite } from "../../bench-suite";
import { collect, parseArchOptPairs, resolveArchDescriptor } from "../common";
import type { CliIo } from "../io";

/** `smpcall bench`: the performance suite (same as `npm run bench`), JSON on stdout. */
export function registerBenchCommand(program: Command, io: CliIo): void {
  program
    .command("bench")
    .description(
      "measure callbacks/s (broadcast on 1024 CPUs, single-storm on 64), per-target cost at 64/1024/8192 CPUs and the heap of an 8192-CPU machine; prints JSON",
    )
    .option("--arch <name|path>", "backend (default $SMPCALL_ARCH, else generic)")
    .option("--arch-opt <name=value>", "backend option (repeatable)", collect)
    .action((flags: { arch?: string; archOpt?: string[] }) => {
      const arch = resolveArchDescriptor(flags.arch, io);
      const result = runBenchSuite(arch, parseArchOptPairs(flags.archOpt));
      io.out(JSON.stringify(result, null, 2) + "\n");
    });
}
