import type { CpuCode } from "../../machine/step";
import { CpuMask } from "../../machine/cpumask";
import { Prng } from "../../machine/prng";
import {
  expectRanOn,
  kitProbe,
  kitSystem,
  KitSteps,
  listText,
  RunLog,
  IPI_COUNTING,
  kitTimeScale,
  StatisticsWatch,
} from "../support";
import { expectThat, type ConformanceCheck, type ConformanceContext } from "../types";

/** How many times each cycled CPU of {@link hotplugCycles} goes offline and comes back. */
const CYCLES = 3;

/**
 * CPUs 0, 3 and 7 of an 8-CPU machine (sender CPU 5) go offline and come back three times; after
 * each return a single call, a mask call of the cycled CPUs and a reschedule reach each of them.
 * A backend whose boot hook toggles a per-CPU enable bit, or counts boots and gives up on a CPU
 * booted more than once, passes a single return and fails here.
 */
function hotplugCycles(ctx: ConformanceContext): void {
  const n = 8;
  const sender = 5;
  const cycled = [0, 3, 7];
  const sys = kitSystem(ctx, n, IPI_COUNTING);
  const probe = kitProbe(sys);
  const steps = new KitSteps(probe);
  const stats = new StatisticsWatch(sys);
  const log = new RunLog();
  const scale = kitTimeScale(ctx);
  /** 100 us (times the kit's time scale) in 10 us steps. */
  const settle = function* (): CpuCode<void> {
    for (let i = 0; i < 10 * scale; i++) yield 10_000;
  };
  const what = `CPUs ${listText(cycled)} going offline and coming back ${CYCLES} times (sender CPU ${sender})`;
  sys.spawn(
    sender,
    (function* () {
      for (let round = 1; round <= CYCLES; round++) {
        for (const c of cycled)
          expectThat(sys.kernel.cpuDown(c) === 0, () => `${what}: cpuDown(${c}) in round ${round} failed`);
        yield* settle(); // each stop_machine waits for this task's next step: short steps
        for (const c of cycled)
          expectThat(sys.kernel.cpuUp(c) === 0, () => `${what}: cpuUp(${c}) in round ${round} failed`);
        yield* settle();
        stats.sample(`after return ${round}`);
        for (const c of cycled)
          yield* steps.step(`${what}: return ${round}: single call to CPU ${c}`, [c], sender, () =>
            sys.kernel.smpCallFunctionSingle(c, log.fn(`single${round}:${c}`), null, true),
          );
        const mask = new CpuMask(n);
        for (const c of cycled) mask.set(c);
        yield* steps.step(`${what}: return ${round}: a mask of ${listText(cycled)}`, cycled, sender, () =>
          sys.kernel.smpCallFunctionMany(mask, log.fn(`mask${round}`), null, true),
        );
        for (const c of cycled) yield* sys.kernel.smpSendReschedule(c);
        yield* settle(); // the reschedules are taken before the CPUs go offline again
      }
    })(),
  );
  steps.verify(what, ctx.guard.run(sys, what));
  stats.verify(what);
  for (let round = 1; round <= CYCLES; round++) {
    for (const c of cycled)
      expectRanOn(`${what}, return ${round}: single call to CPU ${c}`, log, `single${round}:${c}`, [c]);
    expectRanOn(`${what}, return ${round}: mask of ${listText(cycled)}`, log, `mask${round}`, cycled);
  }
  // The run ends once every IPI raised was taken: each reschedule must have reached its CPU.
  for (const c of cycled)
    expectThat(
      probe.schedulerIpis[c] === probe.reschedulesSent[c],
      () =>
        `${what}: CPU ${c} was sent ${probe.reschedulesSent[c]} reschedule(s) after coming back, but the receive path called schedulerIpi ${probe.schedulerIpis[c]} time(s): a CPU that came back more than once lost its reschedule IPIs (a boot hook that toggles a CPU's state, or gives up on a CPU booted more than once?)`,
    );
}

/** After CPUs go offline and some come back (holes in the online mask), sends reach CPUs by id. */
export const hotplugHolesCheck: ConformanceCheck = {
  name: "targets-after-hotplug-holes",
  description:
    "CPUs go offline and some come back in seeded random patterns; then a single send to every online CPU and mask sends reach exactly those CPUs, by id (never the n-th online CPU), and the statistics keep their keys and never go down; CPUs that go offline and come back three times in a row (CPU 0 and the last CPU among them) take a single call, a mask call and a reschedule after each return",
  run(ctx) {
    hotplugCycles(ctx);
    const n = 24;
    for (let pattern = 1; pattern <= 5; pattern++) {
      const rng = new Prng(pattern).fork("kit:hotplug");
      const sender = rng.int(n);
      const down: number[] = [];
      const back: number[] = [];
      for (let c = 0; c < n; c++) {
        if (c === sender || !rng.chance(0.45)) continue;
        down.push(c);
        if (rng.chance(0.4)) back.push(c);
      }
      if (down.length === 0) down.push((sender + 1) % n);
      const online = Array.from({ length: n }, (_, c) => c).filter(
        (c) => !down.includes(c) || back.includes(c),
      );
      const targets = online.filter((c) => c !== sender);
      const others = Array.from({ length: n }, (_, c) => c).filter((c) => c !== sender);
      const during = Array.from({ length: n }, (_, c) => c).filter((c) => c !== sender && !down.includes(c));
      const subset = new CpuMask(n);
      for (let c = 0; c < n; c++) if (rng.chance(0.5)) subset.set(c);
      const subsetTargets = subset.toArray().filter((c) => online.includes(c) && c !== sender);
      const sys = kitSystem(ctx, n, IPI_COUNTING);
      const steps = new KitSteps(kitProbe(sys));
      const stats = new StatisticsWatch(sys);
      const log = new RunLog();
      const what = `pattern ${pattern} (CPUs ${listText(down)} went offline, ${listText(back)} came back; sender CPU ${sender})`;
      sys.spawn(
        sender,
        (function* () {
          // Round 0: every CPU takes an interrupt before any goes offline (so per-CPU counters
          // of CPUs that go offline are not 0).
          yield* steps.step(`${what}: before any CPU went offline, a mask of every CPU`, others, sender, () =>
            sys.kernel.smpCallFunctionMany(new CpuMask(n).setAll(), log.fn("before"), null, true),
          );
          stats.sample("before any CPU went offline");
          for (const c of down)
            expectThat(sys.kernel.cpuDown(c) === 0, () => `${what}: cpuDown(${c}) failed`);
          yield 100_000;
          stats.sample("once they were offline");
          // Round 1, with every hole open.
          for (const t of during)
            yield* steps.step(`${what}: while they were offline, single call to CPU ${t}`, [t], sender, () =>
              sys.kernel.smpCallFunctionSingle(t, log.fn(`during${t}`), null, true),
            );
          yield* steps.step(`${what}: while they were offline, a mask of every CPU`, during, sender, () =>
            sys.kernel.smpCallFunctionMany(new CpuMask(n).setAll(), log.fn("during-all"), null, true),
          );
          stats.sample("after the sends while they were offline");
          // Round 2, after some came back.
          for (const c of back) expectThat(sys.kernel.cpuUp(c) === 0, () => `${what}: cpuUp(${c}) failed`);
          yield 100_000;
          stats.sample("once some came back");
          for (const t of targets)
            yield* steps.step(`${what}: single call to CPU ${t}`, [t], sender, () =>
              sys.kernel.smpCallFunctionSingle(t, log.fn(`single${t}`), null, true),
            );
          const all = new CpuMask(n).setAll();
          yield* steps.step(`${what}: a mask of every CPU`, targets, sender, () =>
            sys.kernel.smpCallFunctionMany(all, log.fn("all"), null, true),
          );
          yield* steps.step(`${what}: a mask of ${listText(subset.toArray())}`, subsetTargets, sender, () =>
            sys.kernel.smpCallFunctionMany(subset, log.fn("subset"), null, true),
          );
          stats.sample("after the sends once some came back");
        })(),
      );
      steps.verify(what, ctx.guard.run(sys, what));
      stats.verify(what);
      expectRanOn(`${what}, before any CPU went offline: mask of every CPU`, log, "before", others);
      for (const t of during)
        expectRanOn(`${what}, while offline: single call to CPU ${t}`, log, `during${t}`, [t]);
      expectRanOn(`${what}, while offline: mask of every CPU`, log, "during-all", during);
      for (const t of targets) expectRanOn(`${what}, single call to CPU ${t}`, log, `single${t}`, [t]);
      expectRanOn(`${what}, mask of every CPU`, log, "all", targets);
      expectRanOn(`${what}, mask ${listText(subset.toArray())}`, log, "subset", subsetTargets);
    }
  },
};
