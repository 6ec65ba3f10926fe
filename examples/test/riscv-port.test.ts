import { describe, expect, it } from "@jest/globals";
import * as fs from "node:fs";
import * as os from "node:os";
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

  it("sbi: one step per ecall, interrupts on between them (6.1 __sbi_send_ipi_v02 loop); a window's harts are raised when its ecall is done", () => {
    // 150 CPUs: windows 1-63 (CPU 0 sends), 64-127, 128-149; 1500 ns per ecall, no jitter.
    const broadcastWith = (rescheduleAt: number): SmpSystem =>
      broadcastOnce(riscv, 150, {}, rescheduleAt, true);
    // The first window's harts are raised when the first ecall ends.
    const firstEcallEnd = broadcastWith(-1).trace.named("ipi_raise")[0].ts;
    // CPU 1's reschedule (an ecall, then 1000 ns) reaches CPU 0 600 ns into the second ecall.
    const sys = broadcastWith(firstEcallEnd + 600 - 1500 - 1000);
    const entries = sys.trace.named("ipi_entry");
    const at = (cpu: number): number => entries.find((r) => r.cpu === cpu)!.ts - firstEcallEnd;
    // CPU 0 takes it once the second ecall is done (1500 after the first), not after the third (3000).
    expect(at(0)).toBeGreaterThanOrEqual(1500);
    expect(at(0)).toBeLessThan(3000);
    // The third window's harts: after the interrupted sender's third ecall and the latency.
    expect(at(140)).toBeGreaterThan(3000 + 1000);
    expect(at(70)).toBeGreaterThanOrEqual(1500 + 1000);
    expect(at(70)).toBeLessThan(at(140));
  });

  it("an IPI raised at an offline CPU is never taken: smp_callin clears SSIP; the message bit waits for the next IPI", () => {
    const sys = createSmpSystem({ cpus: 4, seed: 1, arch: riscv });
    const ran: number[] = [];
    expect(sys.kernel.cpuDown(2)).toBe(0);
    let takenWhenBack = -1;
    spawnProgram(sys, 0, function* () {
      yield 1000;
      yield* sys.arch.sendCallFunctionSingleIpi(2); // as a stray IPI would
      yield 50_000;
      sys.kernel.cpuUp(2);
      yield 50_000;
      takenWhenBack = sys.machine.cpus[2].counters.irqsTaken;
      yield* sys.kernel.smpCallFunctionSingle(2, () => void ran.push(sys.machine.current), null, true);
    });
    expect(sys.run().status).toBe("completed");
    expect(takenWhenBack).toBe(0);
    expect(ran).toEqual([2]);
    // The call-function bit set while CPU 2 was down absorbed the new one.
    expect(sys.arch.statistics()).toMatchObject({ bootClears: 1, messagesAbsorbed: 1, interrupts: 1 });
  });

  it("a 6.1 ftrace file holds no ipi_raise/ipi_entry/ipi_exit: RISC-V 6.1 has none of those tracepoints", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "riscv-trace-"));
    const file = path.join(dir, "t.txt");
    const io = memoryIo();
    expect(await main(["run", "--arch", PORT, "--cpus", "8", "--ops", "10", "--trace", file], io)).toBe(0);
    const text = fs.readFileSync(file, "utf8");
    fs.rmSync(dir, { recursive: true, force: true });
    expect(text).toMatch(/kernel 6\.1/);
    expect(text).not.toMatch(/ipi_(raise|entry|exit):/);
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
