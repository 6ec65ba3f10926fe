import { capabilityValue } from "../../arch/descriptor";
import { parseArchOptions } from "../../arch/options";
import { fmt } from "../probe";
import { kitSystem } from "../support";
import { expectThat, type ConformanceCheck } from "../types";

/** A target that stays busy for good ends in a report within the declared retry bound, not in endless retries. */
export const busyTargetCheck: ConformanceCheck = {
  name: "busy-target-reported-within-bound",
  description:
    "with busyTargetOptions, a target that never drains (interrupts off for good) makes the send give up within the declared retry bound (capabilities.busyRetryBound) and report an arch-error naming it",
  applies: (ctx) =>
    ctx.descriptor.capabilities.busyRetryBound !== undefined && ctx.descriptor.capabilities.busyTargetOptions
      ? null
      : "the backend declares no busy targets (busyRetryBound + busyTargetOptions)",
  run(ctx) {
    const caps = ctx.descriptor.capabilities;
    const archOptions = { ...ctx.options, ...caps.busyTargetOptions };
    const bound = capabilityValue(
      caps.busyRetryBound,
      parseArchOptions(ctx.descriptor.name, ctx.descriptor.options, archOptions),
    )!;
    expectThat(
      Number.isFinite(bound) && bound >= 0,
      () => `capabilities.busyRetryBound is ${bound}: it must be a finite number of retries >= 0`,
    );
    const sys = kitSystem(ctx, 8, { archOptions });
    const retriesKey = caps.retryStatistic;
    const busy = 5;
    let sendsDone = 0;
    let retriesBefore = 0;
    let worst = 0;
    let busyStillOff = true;
    // The busy target: interrupts off far longer than the kit waits (its hardware queue never drains).
    sys.spawn(
      busy,
      (function* () {
        sys.machine.localIrqDisable();
        yield 1e12;
        busyStillOff = false;
        sys.machine.localIrqEnable();
      })(),
    );
    sys.spawn(
      0,
      (function* () {
        yield 1_000;
        // Raw sends fill the target's hardware queue; each must end (delivered, or given up and reported).
        for (let i = 0; i < 8; i++) {
          retriesBefore = retriesKey ? sys.arch.statistics()[retriesKey] : 0;
          yield* sys.arch.sendCallFunctionSingleIpi(busy);
          if (retriesKey) worst = Math.max(worst, sys.arch.statistics()[retriesKey] - retriesBefore);
          if (busyStillOff) sendsDone++;
        }
      })(),
    );
    const out = ctx.guard.run(sys, `8 sends to CPU ${busy}, which never takes an interrupt`);
    expectThat(
      sendsDone === 8,
      () =>
        `the sends to busy CPU ${busy} did not all end while it stayed busy (${sendsDone} of 8 did): the backend waits for a target that never drains`,
    );
    const err = out.problems.find((p) => p.kind === "arch-error");
    expectThat(
      err !== undefined,
      () =>
        `CPU ${busy} never drained its queue, yet no arch-error was reported (problems: ${out.problems.map((p) => p.kind).join(", ") || "none"}): a send to a busy target was given up silently`,
    );
    expectThat(
      err.cpu === busy,
      () => `the arch-error names CPU ${err.cpu}, expected ${busy}: ${err.message}`,
    );
    if (retriesKey)
      expectThat(
        worst <= bound,
        () =>
          `one send to busy CPU ${busy} retried ${fmt(worst)} times (${retriesKey}), more than the declared bound of ${fmt(bound)} (capabilities.busyRetryBound)`,
      );
  },
};
