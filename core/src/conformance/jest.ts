import { describe, expect, it } from "@jest/globals";
import type { ArchDescriptor } from "../arch/descriptor";
import { CONFORMANCE_CHECKS } from "./checks";
import { underTripwire } from "./nondeterminism";
import { conformanceContext, type ConformanceOptions } from "./runner";

/**
 * The jest adapter: `runConformanceSuite(descriptor)` in a backend's test file registers one
 * test per applicable check (checks that do not apply to the backend's capabilities, or whose
 * own machine sizes it refuses, are not registered; `smpcall conform` lists them as skipped). A
 * check that meets a refused size while running fails here: give the suite sizes (`cpuSizes`)
 * and options that fit.
 */
export function runConformanceSuite(descriptor: ArchDescriptor, opts: ConformanceOptions = {}): void {
  const ctx = conformanceContext(descriptor, opts);
  describe(`conformance kit: ${descriptor.name}${opts.options ? ` ${JSON.stringify(opts.options)}` : ""}`, () => {
    for (const check of CONFORMANCE_CHECKS) {
      if (check.applies?.(ctx) != null || check.refusedSize?.(ctx) != null) continue;
      it(`${check.name}: ${check.description}`, () => {
        ctx.guard.begin(check.name);
        expect(() => {
          underTripwire(() => {
            check.run(ctx);
            ctx.guard.end();
          });
        }).not.toThrow();
      }, 60_000);
    }
  });
}
