import { toFtraceText } from "../../trace/ftrace";
import { kitWorkload } from "../support";
import { expectThat, type ConformanceCheck } from "../types";

/** The same seed gives the same trace. */
export const determinismCheck: ConformanceCheck = {
  name: "same-seed-same-trace",
  description:
    "two runs with the same seed give byte-identical ftrace text and reports; another seed differs",
  run(ctx) {
    const once = (seed: number) => {
      const { system, report } = kitWorkload(ctx, `a mixed workload, seed ${seed}`, {
        cpus: 8,
        seed,
        workload: "mixed",
        ops: 150,
        trace: true,
      });
      return toFtraceText(system.trace.records, { cpus: 8 }) + JSON.stringify(report);
    };
    const a = once(21);
    const b = once(21);
    expectThat(a === b, () => {
      let i = 0;
      while (i < a.length && a[i] === b[i]) i++;
      return `two runs with seed 21 differ at character ${i}: "${a.slice(i, i + 80)}" vs "${b.slice(i, i + 80)}": the backend uses a source of randomness or order other than the machine's`;
    });
    expectThat(once(22) !== a, () => "seeds 21 and 22 gave the same trace: the seed is not used");
  },
};
