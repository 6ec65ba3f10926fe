import "reflect-metadata";
import * as fs from "node:fs";
import * as path from "node:path";
import { Command, CommanderError } from "commander";
import { processIo, type CliIo } from "./io";
import { runInWorker, stallWatchFor, wantsWorker, type StallWatch } from "./interrupt";
import { EXIT_INTERNAL, classifyFailure, oneLine, resetUserModules } from "./failure";
import { collect } from "./common";
import { UsageError } from "@smpcall/core";
// commands
import { registerArchsCommand } from "./commands/archs";
import { registerRunCommand } from "./commands/run";
import { registerBenchCommand } from "./commands/bench";
import { registerConformCommand } from "./commands/conform";
import { registerExploreCommand } from "./commands/explore";
import { registerReplayCommand } from "./commands/replay";
import { registerReportCommand } from "./commands/report";
import { registerLitmusCommand } from "./commands/litmus";
import { registerNewArchCommand } from "./commands/new-arch";

export { EXIT_INTERNAL };

/**
 * Commander's output through `io`; its errors become one `smpcall: ...` line: its suggestion on a
 * line of its own (`(Did you mean --cpus?)`) joins the line, and a control character in a value
 * quoted from the command line is escaped ({@link oneLine}).
 */
function output(io: CliIo) {
  return {
    writeOut: (s: string) => io.out(s),
    writeErr: (s: string) => io.err(s),
    outputError: (s: string, write: (s: string) => void) =>
      write(
        `smpcall: ${oneLine(
          s
            .replace(/^error: /, "")
            .trimEnd()
            .replace(/\n\(Did you mean (.*)\)$/, " (did you mean $1)"),
        )} (see --help)\n`,
      ),
  };
}

/** Build the `smpcall` program with every command registered. */
export function buildProgram(io: CliIo): Command {
  const program = new Command("smpcall");
  program
    .description(
      "Linux kernel/smp.c cross-calls on a deterministic simulated multiprocessor, with pluggable arch IPI backends",
    )
    .version(packageVersion())
    .exitOverride()
    .configureOutput(output(io))
    .addHelpText(
      "after",
      "\nExit status: 0 ok, 1 a run found a problem or user code (backend, scenario) is wrong, 2 usage error,\n70 a bug in smpcall. SMPCALL_DEBUG=1 adds stacks to errors. Every command has --help.",
    );
  // commands
  registerArchsCommand(program, io);
  registerRunCommand(program, io);
  registerBenchCommand(program, io);
  registerConformCommand(program, io);
  registerExploreCommand(program, io);
  registerReplayCommand(program, io);
  registerReportCommand(program, io);
  registerLitmusCommand(program, io);
  registerNewArchCommand(program, io);
  for (const c of program.commands) {
    c.exitOverride().configureOutput(output(io));
    refuseRepeatedOptions(c);
  }
  return program;
}

/**
 * A single-valued option given twice (`--cpus 3 --cpus 4`) is a usage error: commander would keep
 * the last value without a word. Options that collect (`--arch-opt`, `--check`, ...) repeat.
 */
function refuseRepeatedOptions(cmd: Command): void {
  for (const o of cmd.options) {
    if (!(o.required || o.optional) || o.parseArg === collect) continue;
    let first: string | undefined;
    cmd.on(`option:${o.name()}`, (value: string) => {
      if (first !== undefined)
        cmd.error(`${o.long} given twice ("${first}" and "${value}"): give it once`, {
          exitCode: 2,
          code: "smpcall.repeatedOption",
        });
      first = value;
    });
  }
  for (const sub of cmd.commands) {
    sub.exitOverride();
    refuseRepeatedOptions(sub);
  }
}

/**
 * An option that takes a value followed by another of the command's options (`run --trace
 * --json`) is a usage error: commander would take `--json` as the file name, write the trace
 * there and print no JSON. A value that only looks like an option is given with `=`
 * (`--trace=--json`), which this leaves alone.
 */
function refuseOptionAsValue(program: Command, argv: readonly string[]): void {
  const cmd = program.commands.find((c) => c.name() === argv[0]);
  if (cmd === undefined) return;
  const isFlag = (w: string): boolean =>
    w === "--help" || w === "-h" || cmd.options.some((o) => o.long === w || o.short === w);
  for (let i = 1; i < argv.length; i++) {
    if (argv[i] === "--") return;
    const o = cmd.options.find((x) => x.long === argv[i] || x.short === argv[i]);
    if (o === undefined || !(o.required || o.optional)) continue;
    const next = argv[i + 1];
    if (next !== undefined && isFlag(next))
      throw new UsageError(
        `${o.long} needs a value, but the next word is the option ${next}: give ${o.long} its value (a value that starts with - is written ${o.long}=VALUE)`,
      );
    i++;
  }
}

/**
 * Run the CLI with `argv` (without node and script). Returns the exit status: 0 ok, 1 a run
 * found a problem or user code is wrong, 2 usage error (one line on stderr, no stack), 70 a bug
 * in smpcall (see failure.ts and docs/errors.md).
 */
export async function main(argv: readonly string[], io: CliIo & { exitCode?: number }): Promise<number> {
  let code = 0;
  const setOuterExitCode = io.setExitCode.bind(io);
  io.setExitCode = (c: number) => {
    code = c;
    setOuterExitCode(c);
  };
  // Deep enough to reach a user's module from the machine's run loop (for naming who threw).
  if (Error.stackTraceLimit < 100) Error.stackTraceLimit = 100;
  resetUserModules();
  const program = buildProgram(io);
  if (argv.length === 0) {
    io.out(program.helpInformation());
    return 0;
  }
  if (argv[0] === "help" && argv.length > 1 && !program.commands.some((c) => c.name() === argv[1])) {
    // commander prints the general help and exits 0 here; an unknown topic is a usage error.
    const names = program.commands.map((c) => c.name()).filter((n) => n !== "help");
    io.err(
      `smpcall: ${oneLine(`help: unknown command '${argv[1]}'`)}; commands: ${names.join(", ")} (see --help)\n`,
    );
    return 2;
  }
  try {
    refuseOptionAsValue(program, argv);
    await program.parseAsync([...argv], { from: "user" });
    return code;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (
        e.code === "commander.helpDisplayed" ||
        e.code === "commander.version" ||
        e.code === "commander.help"
      )
        return 0;
      return 2;
    }
    const f = classifyFailure(e, io.env, io.cwd);
    io.err(f.text);
    return f.code;
  }
}

/** Entry point of the `smpcall` binary (and of `npm run bench`, which passes its own argv). */
export function runCli(argv: readonly string[] = process.argv.slice(2)): void {
  // On a terminal, run/explore/conform/bench run in a worker so that Ctrl-C can stop them.
  if (wantsWorker(argv)) {
    let stall: StallWatch | null;
    try {
      stall = stallWatchFor(argv, process.env);
    } catch (e) {
      const f = classifyFailure(e, process.env, process.cwd());
      process.stderr.write(f.text);
      process.exitCode = f.code;
      return;
    }
    return runInWorker(argv, stall);
  }
  const io = processIo();
  void main(argv, io).then((code) => {
    process.exitCode = code;
  });
}

/** The examples package's version, read from its package.json next to dist/. */
function packageVersion(): string {
  const text = fs.readFileSync(path.join(__dirname, "..", "..", "package.json"), "utf8");
  return (JSON.parse(text) as { version: string }).version;
}
