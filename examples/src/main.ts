/**
 * `npm start`: the demo. Runs the mixed workload on the default backend ($SMPCALL_ARCH, else
 * generic) with 8 CPUs and prints the report; extra arguments go to `smpcall run` and win over the
 * demo's own (`npm start -- --cpus 64` runs 64 CPUs: `run` refuses an option given twice).
 */
import { main } from "./cli/main";
import { processIo } from "./cli/io";
import { demoArgs } from "./demo-args";

const io = processIo();
void main(demoArgs(process.argv.slice(2)), io).then((code) => {
  process.exitCode = code;
});
