import { ArchOptionError } from "../../errors";
import { describeAccepted, parseArchOptions, type ArchOptionSpec } from "../../arch/options";
import { offlineDeliveryFor } from "../../arch/descriptor";
import { kitSystem } from "../support";
import { ConformanceFailure, expectThat, KitMachineRefused, type ConformanceCheck } from "../types";

/** Machine sizes every backend must accept: the kit's fixed-size checks run on 8 CPUs, the mask checks from 2. */
const SMALL_MACHINES = [2, 3, 4, 8] as const;

function badValue(spec: ArchOptionSpec): string {
  switch (spec.type) {
    case "enum":
      return "__no_such_choice__";
    case "integer":
      return spec.min > Number.MIN_SAFE_INTEGER ? String(spec.min - 1) : "x";
    case "number":
      return "not-a-number";
    case "boolean":
      return "maybe";
    case "cpulist":
      return "1-";
  }
}

/** The descriptor: name, description, options schema with valid defaults, bad options rejected, declared statistics present. */
export const descriptorCheck: ConformanceCheck = {
  name: "descriptor-valid",
  description:
    "name, description, options schema with valid defaults; bad and unknown options rejected with ArchOptionError; machines of 2, 3, 4 and 8 CPUs accepted; declared statistics exist",
  run(ctx) {
    const d = ctx.descriptor;
    expectThat(
      /^[a-z0-9][a-z0-9._-]*$/.test(d.name),
      () =>
        `descriptor name "${d.name}" must be lowercase letters, digits, . _ - (it is used as --arch NAME)`,
    );
    expectThat(
      typeof d.description === "string" && d.description.trim().length > 0,
      () => "descriptor description is empty",
    );
    for (const key of ["multicast", "transientFaults", "permanentFaults"] as const) {
      expectThat(typeof d.capabilities[key] === "boolean", () => `capabilities.${key} must be a boolean`);
    }
    const offlineValue: unknown = offlineDeliveryFor(d, parseArchOptions(d.name, d.options, ctx.options));
    expectThat(
      offlineValue === "pending" || offlineValue === "dropped",
      () =>
        `capabilities.offlineDelivery must be "pending" or "dropped" (or a function of the options giving one), got ${String(offlineValue)}`,
    );
    try {
      parseArchOptions(d.name, d.options, {});
    } catch (e) {
      throw new Error(`the default options do not validate: ${(e as Error).message}`, { cause: e });
    }
    for (const [name, spec] of Object.entries(d.options)) {
      expectThat(
        typeof spec.description === "string" && spec.description.length > 0,
        () => `option ${name} has no description`,
      );
      const bad = badValue(spec);
      let threw: unknown = null;
      try {
        parseArchOptions(d.name, d.options, { [name]: bad });
      } catch (e) {
        threw = e;
      }
      expectThat(
        threw instanceof ArchOptionError,
        () => `option ${name} (${describeAccepted(spec)}) accepted the bad value "${bad}"`,
      );
    }
    let unknown: unknown = null;
    try {
      parseArchOptions(d.name, d.options, { __no_such_option__: "1" });
    } catch (e) {
      unknown = e;
    }
    expectThat(unknown instanceof ArchOptionError, () => "an unknown option was accepted");
    // Every IPI check needs a machine of at most 8 CPUs: a backend that refuses one (an inverted
    // size test in validate) would have every check skipped for machine size, and the kit pass it.
    for (const n of SMALL_MACHINES)
      try {
        kitSystem(ctx, n);
      } catch (e) {
        if (!(e instanceof KitMachineRefused)) throw e;
        throw new ConformanceFailure(
          `the backend refuses a ${n}-CPU machine with these options (${e.refusal}): a backend must accept machines of ${SMALL_MACHINES.join(", ")} CPUs, which every IPI check of the kit needs (refused sizes are skipped, so the kit would check nothing)`,
        );
      }
    const stats = kitSystem(ctx, 4).arch.statistics();
    for (const v of Object.values(stats))
      expectThat(
        typeof v === "number" && Number.isFinite(v) && v >= 0,
        () => `statistics must be finite numbers >= 0, got ${JSON.stringify(stats)}`,
      );
    const caps = d.capabilities;
    for (const key of [
      caps.ackStatistic,
      caps.ackedInterruptStatistic,
      caps.raiseStatistic,
      caps.retryStatistic,
      caps.signalStatistic,
    ]) {
      if (key !== undefined)
        expectThat(
          key in stats,
          () =>
            `capabilities name the statistic "${key}" but statistics() has no such key (keys: ${Object.keys(stats).join(", ")})`,
        );
    }
  },
};
