/**
 * Runs `smpcall` with the arguments given as one JSON array (argv[2]) in a process of its own,
 * discards its output, and writes `{"code","maxRssKb","stderr"}` to file descriptor 3: the
 * benchmark's way to measure a command's peak memory (resident set, as `/usr/bin/time` reports).
 */
import * as fs from "node:fs";
import { main } from "./cli/main";
import { memoryIo } from "./cli/io";

const io = memoryIo(process.env, process.cwd());
io.out = () => undefined;
void main(JSON.parse(process.argv[2]) as string[], io).then((code) => {
  fs.writeSync(
    3,
    JSON.stringify({ code, maxRssKb: process.resourceUsage().maxRSS, stderr: io.stderr.slice(0, 2000) }),
  );
});
