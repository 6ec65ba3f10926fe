import { toFtraceText } from "../../trace/ftrace";
import { Prng } from "../../machine/prng";
import { getWorkload } from "../../workloads";
import type { SmpSystem } from "../../system";
import type { RawArchOptions } from "../../arch/options";
import { kitSystem, kitWorkload, otherOptionValues } from "../support";
import { expectThat, type ConformanceCheck } from "../types";

/**
 * Beside the mixed workload of every run the check compares: CPU 7 (idle in the workload) sends
 * reschedules, takes CPU 6 offline and brings it back twice. Backend paths that only reschedules
 * and hotplug take (a boot hook) then run in the compared runs too: state they keep outside the
 * machine (a module-level count of boots) makes two runs of one seed differ.
 */
function hotplugAndReschedules(system: SmpSystem): void {
  const k = system.kernel;
  system.spawn(
    7,
    (function* () {
      for (let round = 0; round < 2; round++) {
        yield 3_000;
        for (const t of [2, 5, 6]) yield* k.smpSendReschedule(t);
        yield 5_000;
        k.cpuDown(6);
        yield 20_000;
        k.cpuUp(6);
        yield 20_000;
        yield* k.smpSendReschedule(6);
      }
    })(),
  );
}

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
    "runs with the same seed (a mixed workload, reschedules, a CPU going offline and coming back twice) give byte-identical ftrace text and reports, with runs of other seeds and lengths between them, with other systems (the run's options, and each option at another value) built during the run's setup, and run interleaved with another machine of the same size; another seed differs",
  run(ctx) {
    const once = (seed: number, ops = 150, beforeRun?: () => void) => {
      const { system, report } = kitWorkload(ctx, `a mixed workload, seed ${seed}, ${ops} ops`, {
        cpus: 8,
        seed,
        workload: "mixed",
        ops,
        trace: true,
        beforeRun: (system) => {
          hotplugAndReschedules(system);
          beforeRun?.();
        },
      });
      lastTrace = toFtraceText(system.trace.records, { cpus: 8 });
      return lastTrace + JSON.stringify(report);
    };
    let lastTrace = "";
    const a = once(21);
    const ax = lastTrace;
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
    // Then systems with each option at another legal value: a backend that keeps what its
    // constructor read from the options in module state runs with the last one's.
    const others = otherOptionValues(ctx);
    sameAsFirst(
      once(21, 150, () => {
        kitSystem(ctx, 8);
        // Each option alone, then all of them at once (built last: it differs in every option).
        for (const archOptions of [...others, Object.assign({}, ...others) as RawArchOptions])
          try {
            kitSystem(ctx, 8, { archOptions });
          } catch {
            // A value the backend refuses on this machine builds nothing.
          }
      }),
      `the second had other systems built after its own, before it ran, one with the run's options${others.length > 0 ? `, one for each of ${others.map((o) => Object.entries(o).map(([k, v]) => `${k}=${String(v)}`)).join(", ")} and one with all of these` : ""}: a backend must reach only the machine it was built with, and keep what it read from its options, never in module state`,
    );
    // Two machines of the same size run interleaved, a slice of events each in turn (as the
    // explorer and a program driving two systems do): a backend that keeps per-CPU state outside
    // its machine (words cached by machine size in module state) mixes the two up.
    const build = (seed: number): SmpSystem => {
      const system = kitSystem(ctx, 8, { seed, trace: true });
      getWorkload("mixed").install({
        system,
        ops: 150,
        rng: new Prng(system.machine.seed).fork("workload:mixed"),
      });
      hotplugAndReschedules(system);
      return system;
    };
    const x = build(21);
    const y = build(25);
    const slice = { maxEvents: 500 };
    let ox = x.run(slice);
    let oy = y.run(slice);
    for (
      let events = 0;
      events < ctx.guard.budget && (ox.status === "step-limit" || oy.status === "step-limit");
      events += 1_000
    ) {
      if (ox.status === "step-limit") ox = x.run(slice);
      if (oy.status === "step-limit") oy = y.run(slice);
    }
    const interleaved =
      "a mixed workload, seed 21, run interleaved with one of seed 25 on another 8-CPU machine";
    ctx.guard.settle(x, interleaved, ox);
    ctx.guard.settle(y, interleaved, oy);
    const tx = toFtraceText(x.trace.records, { cpus: 8 });
    expectThat(ax === tx, () => {
      let i = 0;
      while (i < ax.length && ax[i] === tx[i]) i++;
      return `two runs with seed 21 differ (the second ran interleaved with a run of seed 25 on another machine of the same size, 500 events each in turn) at character ${i}: "${ax.slice(i, i + 80)}" vs "${tx.slice(i, i + 80)}": a backend must keep no state outside its machine (per-CPU state shared by machines of one size?)`;
    });
  },
};
