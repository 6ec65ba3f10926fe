import { describe, expect, it } from "@jest/globals";
import * as path from "node:path";
import { createSmpSystem, loadArch, type SmpSystem } from "@smpcall/core";
import { spawnProgram } from "@smpcall/core/testing";
import { main } from "../src/cli/main";
import { broadcastOnce } from "./port-helpers";
import { memoryIo } from "../src/cli/io";

const PORT = path.resolve(__dirname, "../ports/riscv-sbi.js");
const riscv = loadArch(PORT);

const broadcast = (cpus: number, ipi: string): SmpSystem => broadcastOnce(riscv, cpus, { ipi });

describe("the out-of-tree RISC-V port (examples/ports/riscv-sbi.js)", () => {
  it("sbi: a mask spanning 3 XLEN windows costs 3 ecalls; 32-bit harts masks need more", () => {
    expect(broadcast(150, "sbi").arch.statistics()).toMatchObject({ ecalls: 3, raises: 149 });
    const rv32 = createSmpSystem({
      cpus: 150,
      seed: 1,
      arch: riscv,
      archOptions: { ipi: "sbi", xlen: "32" },
    });
    spawnProgram(rv32, 0, function* () {
      yield* rv32.kernel.smpCallFunction(() => undefined, null, true);
    });
    rv32.run();
    expect(rv32.arch.statistics().ecalls).toBe(5);
  });

  it("aclint and imsic: one write per hart", () => {
    expect(broadcast(40, "aclint").arch.statistics()).toMatchObject({ sswiWrites: 39, ecalls: 0 });
    expect(broadcast(40, "imsic").arch.statistics()).toMatchObject({ imsicWrites: 39, ecalls: 0 });
  });

  it("muxed message bits coalesce: two sends before the demux are one interrupt", () => {
    const sys = createSmpSystem({ cpus: 4, seed: 1, arch: riscv });
    spawnProgram(sys, 2, function* () {
      sys.machine.localIrqDisable();
      yield 20_000;
      sys.machine.localIrqEnable();
      yield 10;
    });
    spawnProgram(sys, 0, function* () {
      yield 100;
      yield* sys.arch.sendRescheduleIpi(2);
      yield* sys.arch.sendRescheduleIpi(2);
    });
    sys.run();
    expect(sys.arch.statistics()).toMatchObject({ messagesAbsorbed: 1, interrupts: 1 });
  });

  it("runs and passes the conformance kit from the CLI by path", async () => {
    const run = memoryIo();
    expect(
      await main(
        ["run", "--arch", PORT, "--cpus", "64", "--workload", "broadcast", "--ops", "4", "--json"],
        run,
      ),
    ).toBe(0);
    expect(JSON.parse(run.stdout).config.arch).toBe("riscv");
    const conform = memoryIo();
    expect(await main(["conform", "--arch", PORT, "--cpus", "2,3,64"], conform)).toBe(0);
    expect(conform.stdout).toMatch(/19 passed, 0 failed, 4 skipped/);
  }, 120_000);

  it("conform exits 1 when a check fails and 2 on usage errors", async () => {
    const broken = memoryIo();
    expect(
      await main(
        [
          "conform",
          "--arch",
          path.resolve(__dirname, "fixtures/broken-riscv.js"),
          "--cpus",
          "3",
          "--schedules",
          "2",
        ],
        broken,
      ),
    ).toBe(1);
    expect(broken.stdout).toMatch(/FAIL +single-ipi-exact-target[\s\S]*never took the IPI \(IPI lost\)/);
    const bad = memoryIo();
    expect(await main(["conform", "--check", "nope"], bad)).toBe(2);
    expect(bad.stderr).toMatch(/unknown check "nope"/);
  });
});
