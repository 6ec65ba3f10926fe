import { CpuMask } from "../../machine/cpumask";
import {
  expectRanOn,
  kitProbe,
  kitSystem,
  KitSteps,
  kitTimeScale,
  listText,
  RunLog,
  IPI_COUNTING,
} from "../support";
import { declaredMinLatency, expectCausal } from "./causality";
import { expectThat, KitMachineRefused, type ConformanceCheck, type ConformanceContext } from "../types";

/** How long (in 1 us steps, times the kit's time scale) the sender waits for its reschedule IPIs to be taken. */
const RESCHEDULE_WAIT_STEPS = 1_000;

/** Machine sizes whose last CPU sits on a mask word boundary (32-, 64- and 128-bit words), and the largest machine. */
const SIZES = [33, 65, 129, 8192] as const;
/** Target sets around the word boundaries (only those that exist in the machine are sent). */
const TARGET_SETS: readonly (readonly number[])[] = [
  [31],
  [32],
  [33],
  [31, 32, 33],
  [63],
  [64],
  [65],
  [63, 64, 65],
  [127],
  [128],
  [127, 128],
  [31, 32, 63, 64, 127, 128],
  // 8-bit ids (xAPIC physical destinations, a byte-wide table) and larger powers of two: only the
  // 8192-CPU machine has them.
  [255],
  [256],
  [257],
  [255, 256, 257],
  [511],
  [512],
  [1023],
  [1024],
  [4095],
  [4096],
  // Every CPU from 0 to 128, and every third CPU below 1024 (342 of them on the 8192-CPU
  // machine): a window of 64 CPUs based at the first target that takes CPU base+64 in (bit 64
  // of a 64-bit word), one that moves on only when a CPU lands exactly at its end (a sparse mask
  // jumps past it), a batch of at most 256 targets that loses the one that overflowed it.
  Array.from({ length: 129 }, (_, c) => c),
  Array.from({ length: 342 }, (_, i) => 3 * i),
];

/** The cost model of the check's machines: the backend's latencies as they are ({@link expectCausal}). */
const CAUSAL_COST = Object.freeze({ deliveryJitter: 0, haltExitNs: 0, irqEntryNs: 0 });

/** Sizes the backend accepts with the kit's options (a mode may be limited to a few CPUs). */
const accepted = new WeakMap<ConformanceContext, { sizes: number[]; refusedFirst: string }>();
function acceptedSizes(ctx: ConformanceContext): { sizes: number[]; refusedFirst: string } {
  let a = accepted.get(ctx);
  if (a) return a;
  a = { sizes: [], refusedFirst: "" };
  for (const n of SIZES) {
    try {
      kitSystem(ctx, n);
      a.sizes.push(n);
    } catch (e) {
      if (!(e instanceof KitMachineRefused)) throw e;
      if (a.refusedFirst === "") a.refusedFirst = e.refusal;
    }
  }
  accepted.set(ctx, a);
  return a;
}

/** Targets on both sides of mask word boundaries and the last CPU of the machine are reached exactly. */
export const maskBoundariesCheck: ConformanceCheck = {
  name: "mask-word-boundaries",
  description:
    "single and mask sends, and reschedules, to CPUs 0, 31/32/33, 63/64/65, 127/128, 255/256/257, 511/512, 1023/1024, 4095/4096, the last CPU and the one before it, masks of CPUs 0-128 and of every third CPU below 1024 (machines of 33, 65, 129 and 8192 CPUs) reach exactly those CPUs, no sooner than the declared minimum delivery latency",
  refusedSize(ctx) {
    const a = acceptedSizes(ctx);
    return a.sizes.length > 0 ? null : new KitMachineRefused(SIZES[0], a.refusedFirst).explanation;
  },
  run(ctx) {
    const stepNs = 1_000 * kitTimeScale(ctx);
    const { minNs, declared } = declaredMinLatency(ctx);
    for (const n of acceptedSizes(ctx).sizes) {
      const last = n - 1;
      const sets = [
        ...TARGET_SETS.map((s) => s.filter((c) => c < n)).filter((s) => s.length > 0),
        [last],
        [last - 1],
        [0, 1, last],
      ];
      const seen = new Set<string>();
      const uniq = sets.filter((s) => !seen.has(s.join()) && seen.add(s.join()));
      for (const sender of [0, last]) {
        // Every interrupt is also checked against its send plus the declared minimum latency
        // (causality-and-latency runs 8 and 16 CPUs only; a latency computed from the target's
        // id may be wrong only for far CPUs): no delivery jitter, and a halted target wakes and
        // enters the interrupt in no time, so the kit sees the backend's own latency.
        const sys = kitSystem(ctx, n, { ...IPI_COUNTING, cost: CAUSAL_COST });
        const probe = kitProbe(sys);
        const steps = new KitSteps(probe);
        const rescheduled = [...new Set(uniq.flat())].filter((c) => c !== sender).sort((a, b) => a - b);
        const log = new RunLog();
        const what = `${n} CPUs, sender CPU ${sender}`;
        sys.spawn(
          sender,
          (function* () {
            for (const [i, set] of uniq.entries()) {
              const targets = set.filter((c) => c !== sender);
              if (targets.length === 0) continue;
              if (targets.length === 1) {
                const t = targets[0];
                yield* steps.step(`${what}: single call to CPU ${t}`, [t], sender, () =>
                  sys.kernel.smpCallFunctionSingle(t, log.fn(`single ${i}`), null, true),
                );
              }
              yield* steps.step(`${what}: mask ${listText(set)}`, targets, sender, () =>
                sys.kernel.smpCallFunctionMany(CpuMask.of(n, set), log.fn(`mask ${i}`), null, true),
              );
            }
            // A reschedule to each of the same CPUs (CPU 0 included when the sender is the last).
            for (const t of rescheduled) yield* sys.kernel.smpSendReschedule(t);
            for (
              let i = 0;
              i < RESCHEDULE_WAIT_STEPS && rescheduled.some((t) => probe.schedulerIpis[t] === 0);
              i++
            )
              yield stepNs;
          })(),
        );
        steps.verify(what, ctx.guard.run(sys, what));
        expectCausal(what, sys, minNs, declared);
        const missed = rescheduled.filter((t) => probe.schedulerIpis[t] === 0);
        expectThat(
          missed.length === 0,
          () =>
            `${what}: a reschedule IPI to CPU(s) ${listText(missed)} never reached schedulerIpi (within ${(RESCHEDULE_WAIT_STEPS * stepNs) / 1000} us)`,
        );
        for (const [i, set] of uniq.entries()) {
          const targets = set.filter((c) => c !== sender);
          if (targets.length === 0) continue;
          if (targets.length === 1)
            expectRanOn(`${what}: single call to CPU ${targets[0]}`, log, `single ${i}`, targets);
          expectRanOn(`${what}: mask ${listText(set)}`, log, `mask ${i}`, targets);
        }
      }
    }
  },
};
