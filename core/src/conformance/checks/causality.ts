import { capabilityValue } from "../../arch/descriptor";
import { parseArchOptions } from "../../arch/options";
import { CpuMask } from "../../machine/cpumask";
import type { SmpSystem } from "../../system";
import { fmt } from "../probe";
import { forEachOptionValue, kitProbe, kitSystem, kitWorkload } from "../support";
import { expectThat, type ConformanceCheck, type ConformanceContext } from "../types";

/**
 * Every interrupt a CPU takes must be paid for by an earlier send towards it that arrived no
 * sooner than the declared minimum latency, or by a line its own handler raised (a second stage,
 * like sparc's softint after the mondo trap). Sends may merge (fewer interrupts than sends); what
 * is impossible is more interrupts by some time than such causes by that time. For a system
 * built without delivery jitter (the machine's jitter may shorten a latency); `minNs` is the
 * declared {@link declaredMinLatency}.
 */
export function expectCausal(what: string, sys: SmpSystem, minNs: number, declared: boolean): void {
  const probe = kitProbe(sys);
  for (let cpu = 0; cpu < sys.machine.nrCpus; cpu++) {
    const entries = probe.entryTimes[cpu];
    if (entries.length === 0) continue;
    const sends = probe.sendTimes[cpu];
    const selfRaises = probe.selfRaiseTimes[cpu];
    let s = 0;
    let r = 0;
    for (let j = 0; j < entries.length; j++) {
      const t = entries[j];
      // A send at time x pays for an interrupt at t if t - x >= minNs (> 0 when nothing is declared).
      while (s < sends.length && (declared ? t - sends[s] >= minNs : t - sends[s] > 0)) s++;
      while (r < selfRaises.length && selfRaises[r] <= t) r++;
      if (s + r >= j + 1) continue;
      const early = s < sends.length && sends[s] <= t ? sends[s] : -1;
      expectThat(false, () => {
        const head = `${what}: CPU ${cpu} took an interrupt at t=${fmt(t)} ns`;
        if (early >= 0 && !declared)
          return `${head}, ${fmt(t - early)} ns after the send at t=${fmt(early)} ns: an interrupt taken at the instant of its send; the backend declares no minimum delivery latency (capabilities.minDeliveryLatencyNs), so it must be more than 0 (declare 0 if the hardware really delivers in no time)`;
        if (early >= 0)
          return `${head}, only ${fmt(t - early)} ns after the send at t=${fmt(early)} ns: earlier than the declared minimum delivery latency of ${fmt(minNs)} ns (causality: an interrupt before its send plus the latency)`;
        return `${head} but only ${s} send(s) towards it${r ? ` and ${r} raise(s) by its own handler` : ""} could have caused its ${j + 1} interrupt(s) by then: an interrupt with no send (spurious, or meant for another CPU)`;
      });
    }
  }
}

/** Interrupts are never taken before their send plus the declared minimum delivery latency. */
export const causalityCheck: ConformanceCheck = {
  name: "causality-and-latency",
  description:
    "no CPU takes an interrupt before a send towards it plus the backend's declared minimum delivery latency (capabilities.minDeliveryLatencyNs; undeclared means more than 0 ns), nor more interrupts than sends; with the run's options and with each option at another legal value",
  run(ctx) {
    // minDeliveryLatencyNs may be a function of the options: it must hold at every value.
    forEachOptionValue(ctx, causalAt);
  },
};

/**
 * The backend's declared minimum delivery latency with the options of `ctx` (`declared` false and
 * 0 when it declares none); a value that is not a finite number >= 0 fails.
 */
export function declaredMinLatency(ctx: ConformanceContext): { minNs: number; declared: boolean } {
  const d = ctx.descriptor;
  const declaredValue = capabilityValue(
    d.capabilities.minDeliveryLatencyNs,
    parseArchOptions(d.name, d.options, ctx.options),
  );
  expectThat(
    declaredValue === undefined || (Number.isFinite(declaredValue) && declaredValue >= 0),
    () => `capabilities.minDeliveryLatencyNs is ${declaredValue}: it must be a finite number of ns >= 0`,
  );
  return { minNs: declaredValue ?? 0, declared: declaredValue !== undefined };
}

/** The causality check with the options of `ctx`. */
function causalAt(ctx: ConformanceContext): void {
  const { minNs, declared } = declaredMinLatency(ctx);
  // Without the machine's delivery jitter the backend's own latencies are what the kit sees.
  const cost = { deliveryJitter: 0 };
  const { system } = kitWorkload(ctx, "a mixed workload on 16 CPUs", {
    cpus: 16,
    seed: 9,
    workload: "mixed",
    ops: 200,
    cost,
  });
  expectCausal("mixed workload on 16 CPUs", system, minNs, declared);
  burst(ctx, cost, minNs, declared);
}

/** Singles, masks and reschedules from two senders at once, to idle and to busy CPUs. */
function burst(
  ctx: ConformanceContext,
  cost: { deliveryJitter: number },
  minNs: number,
  declared: boolean,
): void {
  const n = 8;
  const sys = kitSystem(ctx, n, { cost });
  sys.spawn(
    6,
    (function* () {
      yield 40_000; // busy with interrupts on: takes its IPIs in task context
    })(),
  );
  for (const sender of [0, 5]) {
    sys.spawn(
      sender,
      (function* () {
        for (let t = 0; t < n; t++)
          if (t !== sender) yield* sys.kernel.smpCallFunctionSingle(t, () => {}, null, true);
        const odd = new CpuMask(n);
        for (let c = 1; c < n; c += 2) odd.set(c);
        yield* sys.kernel.smpCallFunctionMany(odd, () => {}, null, true);
        for (let t = 0; t < n; t++) if (t !== sender) yield* sys.kernel.smpSendReschedule(t);
        yield* sys.kernel.smpCallFunction(() => {}, null, false);
      })(),
    );
  }
  ctx.guard.run(sys, "singles, masks and reschedules from CPUs 0 and 5");
  expectCausal("singles, masks and reschedules from CPUs 0 and 5 on 8 CPUs", sys, minNs, declared);
}
