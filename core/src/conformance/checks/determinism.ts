import { toFtraceText } from "../../trace/ftrace";
import { kitWorkload } from "../support";
import { expectThat, type ConformanceCheck } from "../types";

/**
 * The same seed gives the same trace, whatever ran before it in the same process: other runs of
 * other lengths come between the runs compared, so state a backend keeps outside its machine (a
 * module-level counter, a cache) shows up even when one run happens to leave it as it found it.
 */
export const determinismCheck: ConformanceCheck = {
  name: "same-seed-same-trace",
  description:
    "runs with the same seed give byte-identical ftrace text and reports, with runs of other seeds and lengths between them; another seed differs",
  run(ctx) {
    const once = (seed: number, ops = 150) => {
      const { system, report } = kitWorkload(ctx, `a mixed workload, seed ${seed}, ${ops} ops`, {
        cpus: 8,
        seed,
        workload: "mixed",
        ops,
        trace: true,
      });
      return toFtraceText(system.trace.records, { cpus: 8 }) + JSON.stringify(report);
    };
    const a = once(21);
    const sameAsFirst = (b: string, between: string): void =>
      expectThat(a === b, () => {
        let i = 0;
        while (i < a.length && a[i] === b[i]) i++;
        return `two runs with seed 21 differ (${between} ran between them) at character ${i}: "${a.slice(i, i + 80)}" vs "${b.slice(i, i + 80)}": the backend uses a source of randomness, order or state other than the machine's`;
      });
    sameAsFirst(once(21), "nothing");
    expectThat(once(22) !== a, () => "seeds 21 and 22 gave the same trace: the seed is not used");
    sameAsFirst(once(21), "a run with seed 22");
    once(23, 7);
    sameAsFirst(once(21), "a run with seed 23 and 7 ops");
  },
};
