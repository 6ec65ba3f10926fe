import { describe, expect, it } from "@jest/globals";
import * as path from "node:path";
import { loadArch, toFtraceText, type SmpSystem } from "@smpcall/core";
import { main } from "../src/cli/main";
import { broadcastOnce } from "./port-helpers";
import { memoryIo } from "../src/cli/io";

/** A second out-of-tree port, written by following PORTING.md alone (its gaps were fixed in the guide). */
const PORT = path.resolve(__dirname, "../ports/arm64-gic.js");
const arm64 = loadArch(PORT);

const broadcast = (cpus: number, mode: string, more: Record<string, string> = {}): SmpSystem =>
  broadcastOnce(arm64, cpus, { mode, ...more });

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

  it("the number of writes follows the MPIDR layout: aff0PerCluster=4, 1 (a Neoverse core per Aff1)", () => {
    expect(broadcast(64, "targeted", { aff0PerCluster: "4" }).arch.statistics()).toMatchObject({
      sgi1rWrites: 16,
      sgisRaised: 63,
    });
    expect(broadcast(64, "targeted", { aff0PerCluster: "1" }).arch.statistics()).toMatchObject({
      sgi1rWrites: 63,
      sgisRaised: 63,
    });
  });

  it("one step per SGI1R write, interrupts on between them (6.1 gic_ipi_send_mask); a cluster's SGIs leave when its write is done", () => {
    // 64 CPUs: clusters 0-15 (CPU 0 sends), 16-31, 32-47, 48-63; 1000 ns per write, no jitter.
    const broadcastWith = (rescheduleAt: number): SmpSystem =>
      broadcastOnce(arm64, 64, { sysregNs: "1000" }, rescheduleAt, true);
    const raises = broadcastWith(-1).trace.named("ipi_raise");
    const firstWriteEnd = raises[0].ts;
    // The four clusters' SGIs leave one write apart.
    expect(
      [1, 20, 40, 60].map((c) => raises.find((r) => r.fields.target_cpus === c)!.ts - firstWriteEnd),
    ).toEqual([0, 1000, 2000, 3000]);
    // CPU 1's reschedule (dsb 20 + write 1000, then 400 ns) reaches CPU 0 500 ns into the second write.
    const sys = broadcastWith(firstWriteEnd + 500 - 1020 - 400);
    const taken = sys.trace.named("ipi_entry").find((r) => r.cpu === 0)!.ts - firstWriteEnd;
    // Taken once the second write is done, not after the fourth and the isb.
    expect(taken).toBeGreaterThanOrEqual(1000);
    expect(taken).toBeLessThan(2000);
  });

  it("a kernel profile's ftrace export has 6.1's ipi_raise: one per smp_cross_call naming the whole mask, before the dsb (not one per target)", () => {
    // 40 CPUs: clusters 0-15, 16-31, 32-39: three writes for the broadcast from CPU 0.
    const sys = broadcastOnce(arm64, 40, { sysregNs: "1000", barrierNs: "20" }, 30_000, true);
    const text = toFtraceText(sys.trace.records, {
      cpus: 40,
      kernel: "6.1",
      archTracepoints: arm64.tracepoints,
    });
    const raises = text.split("\n").filter((l) => l.includes(": ipi_raise: "));
    expect(raises.map((l) => l.replace(/^.*ipi_raise: /, ""))).toEqual([
      "target_mask=000000ff,fffffffe (Function call interrupts)",
      "target_mask=00000000,00000001 (Rescheduling interrupts)",
    ]);
    // The broadcast's line is CPU 0's, at the send's start: the dsb and the first write follow it.
    const first = sys.trace.named("arch_ipi_raise")[0];
    const firstSgi = sys.trace.named("ipi_raise")[0];
    expect(first.cpu).toBe(0);
    expect(firstSgi.ts - first.ts).toBe(20 + 1000);
    // Without a profile every record stays, the machine's per-target ones included.
    expect(sys.trace.named("ipi_raise")).toHaveLength(40);
    expect(toFtraceText(sys.trace.records, { cpus: 40 })).toContain(": arch_ipi_raise: ");
  });

  it.each([
    ["split", 1, 1],
    ["combined", 1, 0],
  ])("eoi=%s: IAR read, EOIR write(s) %d and DIR write(s) %d per taken interrupt", (eoi, eoir, dir) => {
    const s = broadcast(64, "targeted", { eoi });
    const st = s.arch.statistics();
    const taken = s.machine.cpus.reduce((n, c) => n + c.irqsTaken, 0);
    expect(st.iarReads).toBe(taken);
    expect(st.eoiWrites).toBe(eoir * taken);
    expect(st.dirWrites).toBe(dir * taken);
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
