import { toFtraceText } from "../../trace/ftrace";
import { kitSystem, kitWorkload } from "../support";
import { expectThat, type ConformanceCheck } from "../types";

/**
 * The same seed gives the same trace, whatever ran before it in the same process: other runs of
 * other lengths come between the runs compared, so state a backend keeps outside its machine (a
 * module-level counter, a cache) shows up even when one run happens to leave it as it found it;
 * and one run has a second system built after its own, for a backend that keeps its latest
 * instance in module state and reaches its machine through it.
 */
export const determinismCheck: ConformanceCheck = {
  name: "same-seed-same-trace",
  description:
    "runs with the same seed give byte-identical ftrace text and reports, with runs of other seeds and lengths between them and with another system built during the run's setup; another seed differs",
  run(ctx) {
    const once = (seed: number, ops = 150, beforeRun?: () => void) => {
      const { system, report } = kitWorkload(ctx, `a mixed workload, seed ${seed}, ${ops} ops`, {
        cpus: 8,
        seed,
        workload: "mixed",
        ops,
        trace: true,
        beforeRun,
      });
      return toFtraceText(system.trace.records, { cpus: 8 }) + JSON.stringify(report);
    };
    const a = once(21);
    const sameAsFirst = (b: string, how: string): void =>
      expectThat(a === b, () => {
        let i = 0;
        while (i < a.length && a[i] === b[i]) i++;
        return `two runs with seed 21 differ (${how}) at character ${i}: "${a.slice(i, i + 80)}" vs "${b.slice(i, i + 80)}": the backend uses a source of randomness, order or state other than the machine's`;
      });
    sameAsFirst(once(21), "nothing ran between them");
    expectThat(once(22) !== a, () => "seeds 21 and 22 gave the same trace: the seed is not used");
    sameAsFirst(once(21), "a run with seed 22 ran between them");
    once(23, 7);
    sameAsFirst(once(21), "a run with seed 23 and 7 ops ran between them");
    // Another system built (not run) after this one: a backend that reaches its machine through
    // the last instance built (a module-level singleton) drives the wrong one.
    sameAsFirst(
      once(21, 150, () => void kitSystem(ctx, 8)),
      "the second had another system built after its own, before it ran: a backend must reach only the machine it was built with, never one kept in module state",
    );
  },
};
