import { CpuMask } from "../../machine/cpumask";
import { expectClean, expectRanOn, kitProbe, kitSystem, kitTimeScale, RunLog } from "../support";
import { expectThat, type ConformanceCheck } from "../types";

const N = 8;

/**
 * Backend code keeps the interrupt state it was called with, and callbacks run with interrupts
 * off in the interrupt handler. Each send path is called with interrupts off (as the kernel may:
 * `smp_call_function_single_async`, `smp_send_reschedule` under the runqueue lock, a many-call
 * that does not wait) and with them on; the probe around the backend records any send or
 * receive path that returns with the state changed, and any core call handler called with
 * interrupts on or outside hard IRQ (every guarded kit run fails on those).
 */
export const irqContextCheck: ConformanceCheck = {
  name: "interrupt-state-kept",
  description:
    "every send path, called with interrupts off and with them on, returns with the state it was called with, and never turns them on in between (an IPI pending at the sender is not taken inside the caller's section); callbacks run with interrupts off in the interrupt handler",
  run(ctx) {
    const sys = kitSystem(ctx, N);
    const probe = kitProbe(sys);
    const log = new RunLog();
    const m = sys.machine;
    const k = sys.kernel;
    const changed: string[] = [];
    const expectOff = (what: string, off: boolean): void => {
      if (m.cpus[0].irqsDisabled !== off)
        changed.push(
          `${what}: interrupts ${off ? "enabled" : "disabled"} on return (called with them ${off ? "off" : "on"})`,
        );
    };
    // CPU 1 sends CPU 0 a call while CPU 0 has interrupts off: it stays pending through CPU 0's
    // sends, and must run only once CPU 0 turns them back on. A send that opens interrupts for a
    // while (a busy-wait with them on) and closes them again before returning lets CPU 0 take it
    // inside the caller's section.
    let inSection = false;
    let ranInSection = false;
    const pendingFn = log.fn("pending at the sender");
    const stepNs = 1_000 * kitTimeScale(ctx);
    sys.spawn(
      1,
      (function* () {
        yield 3_000;
        yield* k.smpCallFunctionSingleAsync(
          0,
          k.initCsd((info: unknown, cpu: number) => {
            if (inSection) ranInSection = true;
            pendingFn(info, cpu);
          }, null),
        );
      })(),
    );
    let pendingSeen = false;
    sys.spawn(
      0,
      (function* () {
        yield 2_000;
        m.localIrqDisable();
        inSection = true;
        // Wait (bounded) until CPU 1's IPI is pending here (a trap line is taken at once and
        // leaves a maskable line pending).
        for (let i = 0; i < 1_000 && m.cpus[0].pendingLines === 0; i++) yield stepNs;
        pendingSeen = m.cpus[0].pendingLines !== 0;
        yield* k.smpCallFunctionSingleAsync(3, k.initCsd(log.fn("single, interrupts off"), null));
        expectOff("smp_call_function_single_async with interrupts off", true);
        yield* k.smpSendReschedule(4);
        expectOff("smp_send_reschedule with interrupts off", true);
        yield* k.smpCallFunctionMany(CpuMask.of(N, [5, 6]), log.fn("mask, interrupts off"), null, false);
        expectOff("smp_call_function_many (no wait) with interrupts off", true);
        inSection = false;
        m.localIrqEnable();
        yield 50_000;
        yield* k.smpCallFunctionSingle(2, log.fn("single, interrupts on"), null, true);
        expectOff("smp_call_function_single with interrupts on", false);
        yield* k.smpCallFunctionMany(CpuMask.of(N, [1, 7]), log.fn("mask, interrupts on"), null, true);
        expectOff("smp_call_function_many with interrupts on", false);
        yield* k.smpSendReschedule(5);
        expectOff("smp_send_reschedule with interrupts on", false);
        yield 50_000;
      })(),
    );
    const what = "sends with interrupts off and on from CPU 0";
    const out = ctx.guard.run(sys, what);
    expectThat(changed.length === 0, () => `${what}: ${changed.join("; ")}`);
    expectThat(
      !ranInSection,
      () =>
        `${what}: a call CPU 1 sent to CPU 0 ran on CPU 0 while CPU 0 had interrupts disabled, inside its sends (smp_call_function_single_async, smp_send_reschedule, smp_call_function_many with interrupts off): a send path turned interrupts on for a while (a busy-wait with interrupts enabled?) and took the pending interrupt inside the caller's section`,
    );
    expectThat(
      pendingSeen,
      () =>
        `${what}: a call CPU 1 sent to CPU 0 while it had interrupts off never became pending there (IPI lost?)`,
    );
    expectRanOn(what, log, "pending at the sender", [0]);
    expectRanOn(what, log, "single, interrupts off", [3]);
    expectRanOn(what, log, "mask, interrupts off", [5, 6]);
    expectRanOn(what, log, "single, interrupts on", [2]);
    expectRanOn(what, log, "mask, interrupts on", [1, 7]);
    for (const cpu of [4, 5])
      expectThat(
        probe.schedulerIpis[cpu] > 0,
        () => `${what}: CPU ${cpu} was sent a reschedule IPI but its receive path never called schedulerIpi`,
      );
    expectClean(what, out);
  },
};
