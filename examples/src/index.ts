/** @smpcall/examples: the `smpcall` CLI, the demo and the benchmark suite. */
export { main, buildProgram, runCli, EXIT_INTERNAL } from "./cli/main";
export { memoryIo, processIo, type CliIo } from "./cli/io";
export { runBenchSuite, type BenchResult, type BenchCase } from "./bench-suite";
