import { describe, expect, it } from "@jest/globals";
import { instanceCachingFactory } from "tsyringe";
import { descriptor as generic, GenericIpi } from "@smpcall/arch-generic";
import {
  ArchIpiToken,
  ArchOptionsToken,
  InterconnectToken,
  MachineToken,
  SmpHandlersToken,
  type ArchDescriptor,
  type CpuCode,
  type CpuMask,
  type SmpKernel,
} from "@smpcall/core";
import { CONFORMANCE_CHECKS, runConformance, type ConformanceResult } from "@smpcall/core/conformance";
import { createSmpSystem } from "@smpcall/core";
import { probedDescriptor } from "../src/conformance/probe";
import { ReceiveReturnsTrapsHeld } from "./kit-mutants";

function variant(name: string, impl: typeof GenericIpi): ArchDescriptor {
  return {
    ...generic,
    name,
    register(container) {
      container.register(ArchIpiToken, {
        useFactory: instanceCachingFactory(
          (c) =>
            new impl(
              c.resolve(InterconnectToken),
              c.resolve(SmpHandlersToken),
              c.resolve(MachineToken),
              c.resolve(ArchOptionsToken),
            ),
        ),
      });
    },
  };
}

/** The receive path never returns: it polls a status register forever. */
class LivelockingHandler extends GenericIpi {
  override *handleInterrupt(cpu: number, line: number): CpuCode<void> {
    yield* super.handleInterrupt(cpu, line);
    for (;;) yield 20;
  }
}

/** Every target answers "busy" and the sender retries forever. */
class RetriesBusyForever extends GenericIpi {
  retries = 0;
  override *sendCallFunctionSingleIpi(): CpuCode<void> {
    for (;;) {
      this.retries++;
      yield 500;
    }
  }
  override *sendCallFunctionIpiMask(): CpuCode<void> {
    yield* this.sendCallFunctionSingleIpi();
  }
}

describe("the kit never hangs", () => {
  it.each([
    [
      "a livelocking handler",
      variant("livelock", LivelockingHandler),
      /still in handleInterrupt \(line [01], (Function call|Rescheduling) interrupts\) after [\d,]+ events/,
    ],
    [
      "a sender retrying a busy answer forever",
      variant("busy-forever", RetriesBusyForever),
      /CPU \d+ still in sendCallFunction(SingleIpi \(to CPU \d+\)|IpiMask \(\d+ CPUs\)) after [\d,]+ events/,
    ],
  ])(
    "%s fails every check that runs it, within 60 s, naming the check, the budget and what the backend was doing",
    (_l, d, doing) => {
      const t0 = Date.now();
      const started: string[] = [];
      const results: ConformanceResult[] = runConformance(d, { onCheckStart: (c) => started.push(c.name) });
      const secs = (Date.now() - t0) / 1000;
      expect(secs).toBeLessThan(60);
      expect(results.map((r) => r.name)).toEqual(CONFORMANCE_CHECKS.map((c) => c.name));
      const ranOut = results.filter(
        (r) =>
          r.status === "fail" && /ran out of its event budget of (2,000,000|250,000) events/.test(r.message),
      );
      expect(ranOut.length).toBeGreaterThan(3);
      for (const r of ranOut) {
        expect(r.message.startsWith(`${r.name}: `)).toBe(true);
        expect(r.message).toMatch(doing);
      }
    },
    120_000,
  );

  it("a check over its wall-clock limit fails naming the limit and what the machine was doing", () => {
    const [r] = runConformance(generic, { only: ["mask-ipi-exact"], cpuSizes: [8192], checkWallMs: 1 });
    expect(r.status).toBe("fail");
    expect(r.message).toMatch(
      /^mask-ipi-exact: mask "1 CPU" from CPU 1 on 8192 CPUs ran out of its wall-clock limit of 1 ms \(after [\d,]+ events\)/,
    );
  });

  it("a healthy backend stays far inside the budget", () => {
    expect(
      runConformance(generic, { cpuSizes: [2, 64], eventBudget: 200_000 }).filter((r) => r.status === "fail"),
    ).toEqual([]);
  });
});

describe("the kit's probe is transparent", () => {
  it("passes raise's sentAfterNs on: a raise under the kit lands when it lands in a run", () => {
    // A backend whose send raises its target with a sender-side offset (as a sun4u Cheetah slot
    // does): the probed run must time it as the plain one.
    class OffsetIpi extends GenericIpi {
      override *sendCallFunctionSingleIpi(cpu: number): CpuCode<void> {
        this.wires.raise(cpu, 0, 1000, 700);
        yield 100;
      }
    }
    const offset = variant("offset", OffsetIpi);
    const entryAt = (arch: ArchDescriptor): number => {
      const sys = createSmpSystem({ cpus: 2, seed: 1, arch, cost: { deliveryJitter: 0 }, trace: true });
      sys.spawn(
        0,
        (function* () {
          yield 1000;
          yield* sys.arch.sendCallFunctionSingleIpi(1);
        })(),
      );
      sys.run();
      return sys.trace.named("ipi_entry").find((r) => r.cpu === 1)!.ts;
    };
    const plain = entryAt(offset);
    expect(plain).toBeGreaterThanOrEqual(1000 + 700 + 1000);
    expect(entryAt(probedDescriptor(offset))).toBe(plain);
  });
});

describe("a send path that leaves traps held", () => {
  /** Holds traps for its send (interrupts off first) and forgets to release them. */
  class LeavesTrapsHeld extends GenericIpi {
    override *sendCallFunctionSingleIpi(cpu: number): CpuCode<void> {
      this.machine.localIrqSave();
      this.wires.holdTraps(true);
      yield* super.sendCallFunctionSingleIpi(cpu);
    }
  }
  const held = variant("held", LeavesTrapsHeld);

  it("stops the run at its return, naming the backend and what to do", () => {
    const sys = createSmpSystem({ cpus: 2, seed: 1, arch: held });
    sys.spawn(
      0,
      (function* () {
        yield* sys.kernel.smpCallFunctionSingle(1, () => {}, null, true);
      })(),
    );
    expect(() => sys.run()).toThrow(
      /^backend held: sendCallFunctionSingleIpi returned with traps held on CPU 0 \(holdTraps\(true\) without holdTraps\(false\)\): release them before the send path returns/,
    );
  });

  /** The same mistake in the mask send and the reschedule send. */
  class LeavesTrapsHeldOnEverySend extends GenericIpi {
    override *sendCallFunctionIpiMask(mask: CpuMask): CpuCode<void> {
      this.machine.localIrqSave();
      this.wires.holdTraps(true);
      yield* super.sendCallFunctionIpiMask(mask);
    }
    override *sendRescheduleIpi(cpu: number): CpuCode<void> {
      this.machine.localIrqSave();
      this.wires.holdTraps(true);
      yield* super.sendRescheduleIpi(cpu);
    }
  }
  const heldEverywhere = variant("held-everywhere", LeavesTrapsHeldOnEverySend);

  it.each([
    ["sendCallFunctionIpiMask", (k: SmpKernel) => k.smpCallFunction(() => {}, null, true)],
    ["sendRescheduleIpi", (k: SmpKernel) => k.smpSendReschedule(1)],
  ] as const)("names %s when that send path returns with traps held", (method, send) => {
    const sys = createSmpSystem({ cpus: 3, seed: 1, arch: heldEverywhere });
    sys.spawn(
      0,
      (function* () {
        sys.kernel.getCpu();
        yield* send(sys.kernel);
        sys.kernel.putCpu();
      })(),
    );
    expect(() => sys.run()).toThrow(
      new RegExp(`^backend held-everywhere: ${method} returned with traps held on CPU 0 \\(holdTraps`),
    );
  });

  it("fails the kit's checks that send a single IPI", () => {
    const failed = runConformance(held, { cpuSizes: [2, 8] }).filter((r) => r.status === "fail");
    expect(failed.length).toBeGreaterThan(0);
    expect(failed.some((r) => /traps held/.test(r.message))).toBe(true);
  });
});

describe("a receive path that returns with traps held", () => {
  const held = variant("rx-held", ReceiveReturnsTrapsHeld);

  it("stops the run at the handler's return, naming the backend and the receive path (it blamed the CPU's next send)", () => {
    const sys = createSmpSystem({ cpus: 2, seed: 1, arch: held });
    sys.spawn(
      0,
      (function* () {
        yield* sys.kernel.smpSendReschedule(1);
        yield 10_000;
      })(),
    );
    expect(() => sys.run()).toThrow(
      /^backend rx-held: handleInterrupt\(1, 1\) returned with traps held \(holdTraps\(true\) without holdTraps\(false\), t=[\d,]+ ns\): release them before the receive path returns/,
    );
  });
});
