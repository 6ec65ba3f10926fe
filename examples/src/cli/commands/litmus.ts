import { LITMUS_TESTS, MEMORY_MODELS, UsageError, runLitmus, type MemoryModelName } from "@smpcall/core";
import type { Command } from "commander";
import type { CliIo } from "../io";
import { collect, parseChoice } from "../common";

/** One row of `smpcall litmus`: a test under one model. */
interface LitmusRow {
  test: string;
  model: MemoryModelName;
  executions: number;
  weakOutcome: string;
  weakReached: boolean;
  /** What kernel-smp.md §12 says of the weak outcome under this model. */
  allowedBy12: boolean;
  outcomes: Record<string, number>;
}

/**
 * `smpcall litmus [--memory M]... [--test NAME]... [--json]`: runs the §12 litmus shapes
 * exhaustively under the memory models and prints, per test and model, whether the weak outcome
 * is reached and what §12 says of it.
 */
export function registerLitmusCommand(program: Command, io: CliIo): void {
  program
    .command("litmus")
    .description("run the memory-model litmus tests (MP, SB, LB; plain and ordered) exhaustively")
    .option(
      "--memory <model>",
      `memory model, repeatable: ${MEMORY_MODELS.join(", ")} (default: all)`,
      collect,
    )
    .option("--test <name>", "a litmus test, repeatable (default: all)", collect)
    .option("--json", "print one JSON object on stdout")
    .addHelpText(
      "after",
      `\nTests: ${LITMUS_TESTS.map((t) => t.name).join(", ")}.\nUnder lkmm a store may also run ahead of earlier unordered loads of other locations (load buffering, docs/memory-model.md).`,
    )
    .action((opts: { memory?: string[]; test?: string[]; json?: boolean }) => {
      const models = (opts.memory ?? [...MEMORY_MODELS]).map((m) =>
        parseChoice("--memory", m, MEMORY_MODELS),
      );
      const names = LITMUS_TESTS.map((t) => t.name);
      const tests = (opts.test ?? names).map((n) => {
        const t = LITMUS_TESTS.find((x) => x.name === n);
        if (t === undefined) throw new UsageError(`bad --test "${n}": choose one of ${names.join(", ")}`);
        return t;
      });
      const rows: LitmusRow[] = [];
      for (const test of tests) {
        for (const model of models) {
          const { outcomes, executions } = runLitmus(test, model);
          rows.push({
            test: test.name,
            model,
            executions,
            weakOutcome: test.weakOutcome,
            weakReached: outcomes.has(test.weakOutcome),
            allowedBy12: test.allowedBy[model],
            outcomes: Object.fromEntries([...outcomes.entries()].sort()),
          });
        }
      }
      if (opts.json) {
        io.out(JSON.stringify({ rows }, null, 2) + "\n");
        return;
      }
      const w = Math.max("test".length, ...rows.map((r) => r.test.length));
      io.out(`${"test".padEnd(w)}  model  executions  weak outcome  reached  §12 says\n`);
      for (const r of rows) {
        const note = r.weakReached === r.allowedBy12 ? "" : "  (differs: see docs/memory-model.md)";
        io.out(
          `${r.test.padEnd(w)}  ${r.model.padEnd(5)}  ${String(r.executions).padStart(10)}  ${r.weakOutcome.padEnd(12)}  ${(r.weakReached ? "yes" : "no").padEnd(7)}  ${r.allowedBy12 ? "allowed" : "forbidden"}${note}\n`,
        );
      }
    });
}
