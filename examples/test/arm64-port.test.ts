import { describe, expect, it } from "@jest/globals";
import * as path from "node:path";
import { loadArch, type SmpSystem } from "@smpcall/core";
import { main } from "../src/cli/main";
import { broadcastOnce } from "./port-helpers";
import { memoryIo } from "../src/cli/io";

/** A second out-of-tree port, written by following PORTING.md alone (its gaps were fixed in the guide). */
const PORT = path.resolve(__dirname, "../ports/arm64-gic.js");
const arm64 = loadArch(PORT);

const broadcast = (cpus: number, mode: string): SmpSystem => broadcastOnce(arm64, cpus, { mode });

describe("the out-of-tree arm64 GICv3 port (examples/ports/arm64-gic.js)", () => {
  it("targeted: one ICC_SGI1R write per 16-CPU affinity cluster the mask touches", () => {
    // CPUs 1..63 of 64: clusters 0-3.
    expect(broadcast(64, "targeted").arch.statistics()).toMatchObject({
      sgi1rWrites: 4,
      irmWrites: 0,
      sgisRaised: 63,
    });
    // CPUs 1..39 of 40: clusters 0-2.
    expect(broadcast(40, "targeted").arch.statistics()).toMatchObject({ sgi1rWrites: 3, sgisRaised: 39 });
  });

  it("irm: one write when the mask is every CPU but the sender", () => {
    expect(broadcast(64, "irm").arch.statistics()).toMatchObject({
      sgi1rWrites: 1,
      irmWrites: 1,
      sgisRaised: 63,
    });
  });

  it("acknowledges (IAR) and ends (EOIR) each taken interrupt once", () => {
    const s = broadcast(64, "targeted");
    const st = s.arch.statistics();
    const taken = s.machine.cpus.reduce((n, c) => n + c.irqsTaken, 0);
    expect(st.iarReads).toBe(taken);
    expect(st.eoiWrites).toBe(taken);
  });

  it("runs and passes the conformance kit from the CLI by path, in both modes; a bad mode is a usage error", async () => {
    const run = memoryIo();
    expect(
      await main(
        ["run", "--arch", PORT, "--cpus", "64", "--workload", "broadcast", "--ops", "4", "--json"],
        run,
      ),
    ).toBe(0);
    expect(JSON.parse(run.stdout).config.arch).toBe("arm64-gic");
    for (const mode of ["targeted", "irm"]) {
      const conform = memoryIo();
      expect(
        await main(["conform", "--arch", PORT, "--arch-opt", `mode=${mode}`, "--cpus", "2,3,64"], conform),
      ).toBe(0);
      expect(conform.stdout).toMatch(/19 passed, 0 failed, 4 skipped/);
    }
    const bad = memoryIo();
    expect(await main(["conform", "--arch", PORT, "--arch-opt", "mode=bogus"], bad)).toBe(2);
    expect(bad.stderr).toMatch(
      /bad value "bogus" for option mode of arch arm64-gic: expected targeted \| irm/,
    );
  }, 120_000);
});
