/** `npm run -s bench [-- --arch NAME ...]`: the benchmark suite as a plain script; the same as `smpcall bench`. */
import { runCli } from "./cli/main";

runCli(["bench", ...process.argv.slice(2)]);
