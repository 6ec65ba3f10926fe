import { CpuMask } from "../../machine/cpumask";
import { Prng } from "../../machine/prng";
import type { CpuCode } from "../../machine/step";
import { expectClean, kitProbe, kitSystem, kitTiming, listText } from "../support";
import { expectThat, type ConformanceCheck } from "../types";

const N = 8;
const TARGET = 3;
const ROUNDS = 320;
/**
 * Rounds start this far apart (ns), times the kit's time scale for the backend: every send of a
 * round has long been served by the next.
 */
const ROUND_NS = 60_000;
/**
 * The two sends of a round start within this window (ns) of the round's start, at seeded
 * offsets: a narrow window puts the second send inside the first one's send path, a wide one
 * inside the target's receive path for the first (when the backend delivers within a few us).
 * A third kind of round aims the second send at the first one's receive path, whatever the
 * backend's delivery time: one measured delivery (send to handler entry) after the first send,
 * give or take {@link AIM_NS}.
 */
const SPREADS_NS = [300, 4_000];
/** How far around the first send's receive path the aimed rounds put the second send (ns). */
const AIM_NS = 1_500;

type Kind = "single" | "mask" | "reschedule";
const KINDS: readonly Kind[] = ["single", "mask", "reschedule"];

/** One send of the plan. */
interface Send {
  readonly round: number;
  readonly from: number;
  readonly at: number;
  readonly kind: Kind;
  /** Call targets (single and mask). */
  readonly targets: readonly number[];
}

/**
 * Two CPUs send to one CPU at nearly the same instant, round after round: single calls, mask
 * calls and reschedules, at seeded offsets (every third round a reschedule aimed at the first
 * send's receive path), while the target runs a task (the first half of the rounds) or is idle.
 * Rounds are stretched by the kit's time scale for a slow backend. A send path that updates
 * per-target state (a message word, a queue) in two steps with another sender in between, or a
 * receive path that reads that state and clears it later, loses a message here. Every call must run exactly once on each target within its round,
 * and every reschedule must be followed by a schedulerIpi call on the target within its round.
 */
export const concurrentSendersCheck: ConformanceCheck = {
  name: "concurrent-senders-one-target",
  description:
    "two CPUs send single calls, mask calls and reschedules to one CPU at nearly the same instant, round after round: every call runs once on each target within its round, every reschedule reaches schedulerIpi within its round",
  run(ctx) {
    // A slow backend gets longer rounds (the same events, later). The spreads stay: both sends of
    // a round meet the same latency, so their offset decides where the second lands in the first.
    const { scale, roundTripNs, deliveryNs } = kitTiming(ctx);
    const roundNs = ROUND_NS * scale;
    const stepNs = 1_000 * scale;
    // No delivery jitter: the aimed rounds must land where they aim, whatever the latency.
    const sys = kitSystem(ctx, N, { cost: { deliveryJitter: 0 } });
    const probe = kitProbe(sys);
    const rng = new Prng(1).fork("kit:concurrent-senders");
    const plan: Send[] = [];
    const senders = Array.from({ length: N }, (_, c) => c).filter((c) => c !== TARGET);
    for (let round = 0; round < ROUNDS; round++) {
      const a = senders[rng.int(senders.length)];
      let b = senders[rng.int(senders.length - 1)];
      if (b === a) b = senders[senders.length - 1];
      // Rounds 0, 1 (mod 3): the two spreads; 2: the second send aimed at the first's receive path.
      const aimed = round % 3 === 2;
      const spread = aimed ? SPREADS_NS[0] : SPREADS_NS[round % 3];
      // A seeded phase against the busy target's 1 us steps: whatever the backend's latency, the
      // IPIs of some rounds land just after a step boundary, where the target takes them apart.
      const phase = rng.int(1_000);
      let firstAt = -1;
      for (const from of [a, b]) {
        const drawn = KINDS[rng.int(KINDS.length)];
        // An aimed second send is a reschedule: the kernel sends it whatever is queued, where it
        // skips a call's IPI while the target's queue still holds the first call.
        const kind = aimed && firstAt >= 0 ? "reschedule" : drawn;
        const other = senders.filter((c) => c !== from)[rng.int(senders.length - 1)];
        const at =
          aimed && firstAt >= 0
            ? firstAt + Math.max(0, deliveryNs - AIM_NS / 6 + rng.int(AIM_NS))
            : round * roundNs + phase + rng.int(spread);
        if (firstAt < 0) firstAt = at;
        plan.push({
          round,
          from,
          at,
          kind,
          targets: kind === "single" ? [TARGET] : kind === "mask" ? [TARGET, other] : [],
        });
      }
    }
    const ran = new Map<number, [cpu: number, ns: number][]>();
    sys.spawn(
      TARGET,
      (function* (): CpuCode<void> {
        // Busy in 1 us steps: interrupts are taken between steps, so two IPIs that land a few
        // hundred ns apart are taken apart (a receive path that clears its state late loses one).
        if (scale === 1) {
          for (let i = 0; i < (ROUNDS / 2) * (ROUND_NS / 1_000); i++) yield 1_000;
          return;
        }
        // A slow backend: 1 us steps while a round's IPIs can land, the rest of the round at once
        // (the same events per round as a fast backend, give or take its round trip).
        const landNs = Math.min(roundNs - 2_000, ROUND_NS + 2 * roundTripNs);
        for (let r = 0; r < ROUNDS / 2; r++) {
          const start = r * roundNs;
          while (sys.machine.now < start + landNs) yield 1_000;
          if (sys.machine.now < start + roundNs - 1_000) yield start + roundNs - 1_000 - sys.machine.now;
        }
      })(),
    );
    for (const from of senders) {
      const mine = plan.filter((p) => p.from === from).sort((x, y) => x.at - y.at);
      sys.spawn(
        from,
        (function* (): CpuCode<void> {
          for (const p of mine) {
            // Wait in 1 us steps: interrupts are taken between steps, so a sender is a call target too.
            while (p.at > sys.machine.now) yield Math.min(stepNs, p.at - sys.machine.now);
            const i = plan.indexOf(p);
            const record = (_info: unknown, cpu: number): void => {
              const list = ran.get(i) ?? [];
              list.push([cpu, sys.machine.now]);
              ran.set(i, list);
            };
            if (p.kind === "reschedule") yield* sys.kernel.smpSendReschedule(TARGET);
            else if (p.kind === "single") yield* sys.kernel.smpCallFunctionSingle(TARGET, record, null, true);
            else yield* sys.kernel.smpCallFunctionMany(CpuMask.of(N, p.targets), record, null, true);
          }
        })(),
      );
    }
    const what = `two CPUs sending to CPU ${TARGET} at nearly the same instant, ${ROUNDS} rounds of ${roundNs / 1000} us`;
    const out = ctx.guard.run(sys, what);
    const ipis = probe.schedulerIpiTimes[TARGET];
    plan.forEach((p, i) => {
      const end = (p.round + 1) * roundNs;
      const other = plan[i % 2 === 0 ? i + 1 : i - 1];
      const sent = `round ${p.round}: CPU ${p.from}'s ${p.kind} at ${p.at} ns (CPU ${other.from} sent a ${other.kind} at ${other.at} ns)`;
      if (p.kind === "reschedule") {
        expectThat(
          ipis.some((t) => t >= p.at && t < end),
          () =>
            `${what}: ${sent}: CPU ${TARGET}'s receive path never called schedulerIpi after it within the round: the message was lost between the two senders (per-target state updated in two steps?) or between a sender and the receive path (read, then cleared later?)`,
        );
        return;
      }
      const runs = ran.get(i) ?? [];
      const cpus = runs.map(([c]) => c).sort((x, y) => x - y);
      const late = runs.filter(([, t]) => t >= end).map(([c]) => c);
      expectThat(
        cpus.join() === [...p.targets].sort((x, y) => x - y).join() && late.length === 0,
        () =>
          `${what}: ${sent}: the call ran on ${listText(cpus)}${late.length ? ` (on ${listText(late)} only after its round, when a later IPI flushed the queue)` : ""}, expected once on ${listText(p.targets)} within the round: an IPI was lost between the two senders or between a sender and the receive path`,
      );
    });
    expectClean(what, out);
  },
};
