import { CpuMask } from "../../machine/cpumask";
import { expectClean, expectRanOn, kitProbe, kitSystem, RunLog } from "../support";
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
    "every send path, called with interrupts off and with them on, returns with the state it was called with; callbacks run with interrupts off in the interrupt handler",
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
    sys.spawn(
      0,
      (function* () {
        yield 2_000;
        m.localIrqDisable();
        yield* k.smpCallFunctionSingleAsync(3, k.initCsd(log.fn("single, interrupts off"), null));
        expectOff("smp_call_function_single_async with interrupts off", true);
        yield* k.smpSendReschedule(4);
        expectOff("smp_send_reschedule with interrupts off", true);
        yield* k.smpCallFunctionMany(CpuMask.of(N, [5, 6]), log.fn("mask, interrupts off"), null, false);
        expectOff("smp_call_function_many (no wait) with interrupts off", true);
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
