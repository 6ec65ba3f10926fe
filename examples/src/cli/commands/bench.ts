import * as path from "node:path";
import type { Command } from "commander";
import { chooseArchSpec, isModulePath } from "@smpcall/core";
import { BENCH_CASE_NAMES, missedTargets, runBenchSuite, type BenchCase } from "../../bench-suite";
import { collect, parseArchOptPairs, resolveArchDescriptor } from "../common";
import type { CliIo } from "../io";

/**
 * `smpcall bench`: the performance suite (same as `npm run -s bench`), JSON on stdout; exit 1
 * when a target is missed (the names on stderr). `--quick` is not judged: its figures are not
 * comparable with the targets (`judged` false, `met` entries null, a note on stderr, exit 0).
 */
export function registerBenchCommand(program: Command, io: CliIo): void {
  program
    .command("bench")
    .description(
      "measure callbacks/s (broadcast on 1024 CPUs, single-storm on 64), per-target cost at 64/1024/8192 CPUs and the heap of an 8192-CPU machine; prints JSON, exit 1 if a target is missed (a full run only: --quick is not judged)",
    )
    .option("--arch <name|path>", "backend (default $SMPCALL_ARCH, else generic)")
    .option("--arch-opt <name=value>", "backend option (repeatable)", collect)
    .option(
      "--quick",
      'a smoke run at 1/50 of the op counts, one repetition: its figures are not comparable with the targets, so they are not judged ("judged": false, every "met" null, exit 0)',
    )
    .action((flags: { arch?: string; archOpt?: string[]; quick?: boolean }) => {
      const arch = resolveArchDescriptor(flags.arch, io);
      const progress = (done: readonly BenchCase[]): void => {
        const next = BENCH_CASE_NAMES[done.length];
        const figures = done.map((c) => `${c.name} ${c.callbacksPerSec} callbacks/s`).join(", ");
        io.progress?.(
          `bench ${arch.name}: ${done.length} of ${BENCH_CASE_NAMES.length} cases measured${figures ? ` (${figures})` : ""}${next ? `, ${next} running` : ", trace-memory (a child process) running"}; no result`,
        );
      };
      progress([]);
      // The trace-memory case runs in a child process: it loads a backend module by its path.
      const spec = chooseArchSpec(flags.arch, io.env);
      const result = runBenchSuite(
        arch,
        parseArchOptPairs(flags.archOpt),
        flags.quick ? 0.02 : 1,
        progress,
        isModulePath(spec) ? path.resolve(io.cwd, spec) : arch.name,
      );
      io.out(JSON.stringify(result, null, 2) + "\n");
      if (!result.judged) {
        io.err(
          'smpcall bench: --quick: figures not judged against the targets (1/50 of the ops, one repetition: not comparable; "met" is null); run without --quick to judge them\n',
        );
        return;
      }
      const missed = missedTargets(result);
      if (missed.length > 0) {
        io.err(`smpcall bench: target(s) missed: ${missed.join(", ")} (see "targets" and "met")\n`);
        io.setExitCode(1);
      }
    });
}
