/** `npm run bench [-- --arch NAME ...]`: the benchmark suite as a plain script (node, not jest). */
import { main } from "./cli/main";
import { processIo } from "./cli/io";

const io = processIo();
void main(["bench", ...process.argv.slice(2)], io).then((code) => {
  process.exitCode = code;
});
