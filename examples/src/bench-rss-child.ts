/**
 * Runs `smpcall` with the arguments given as one JSON array (argv[2]) in a process of its own,
 * discards its output, and writes `{"code","maxRssKb","stderr"}` to file descriptor 3: the
 * benchmark's way to measure a command's peak memory (resident set, as `/usr/bin/time` reports).
 * A command that runs a backend module by path runs in a watched worker thread, as the CLI runs
 * it (its own lines go to stderr then, and `stderr` is empty): loaded again in this process, the
 * module may hang, and the benchmark waits for this process.
 */
import * as fs from "node:fs";
import { main } from "./cli/main";
import { memoryIo } from "./cli/io";
import { runInWorker, runsUserCode, stallWatchFor } from "./cli/interrupt";

const args = JSON.parse(process.argv[2]) as string[];
const report = (code: number, stderr: string): void => {
  const res = { code, maxRssKb: process.resourceUsage().maxRSS, stderr: stderr.slice(0, 2000) };
  fs.writeSync(3, JSON.stringify(res));
};
if (runsUserCode(args, process.env)) {
  runInWorker(args, stallWatchFor(args, process.env), (code) => report(code, ""));
} else {
  const io = memoryIo(process.env, process.cwd());
  io.out = () => undefined;
  void main(args, io).then((code) => report(code, io.stderr));
}
