/**
 * `npm start`: the demo. Runs the mixed workload on the default backend ($SMPCALL_ARCH, else
 * generic) with 8 CPUs and prints the report; extra arguments go to `smpcall run`.
 */
import { main } from "./cli/main";
import { processIo } from "./cli/io";

const io = processIo();
void main(["run", "--cpus", "8", "--workload", "mixed", ...process.argv.slice(2)], io).then((code) => {
  process.exitCode = code;
});
