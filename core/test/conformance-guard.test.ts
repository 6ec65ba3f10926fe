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
} from "@smpcall/core";
import { CONFORMANCE_CHECKS, runConformance, type ConformanceResult } from "@smpcall/core/conformance";

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
