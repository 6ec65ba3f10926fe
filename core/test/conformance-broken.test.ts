import { describe, expect, it } from "@jest/globals";
import { instanceCachingFactory } from "tsyringe";
import { descriptor as generic, GenericIpi, LINE_CALL_FUNCTION } from "@smpcall/arch-generic";
import {
  ArchIpiToken,
  ArchOptionsToken,
  InterconnectToken,
  MachineToken,
  SmpHandlersToken,
  type ArchDescriptor,
  type ArchStatistics,
  type CpuCode,
  type CpuMask,
} from "@smpcall/core";
import { runConformance, type ConformanceResult } from "@smpcall/core/conformance";

/** A generic variant whose ArchIpi class is `impl`. */
function variant(
  name: string,
  impl: typeof GenericIpi,
  caps: Partial<ArchDescriptor["capabilities"]> = {},
  options: ArchDescriptor["options"] = generic.options,
): ArchDescriptor {
  return {
    ...generic,
    name,
    options,
    capabilities: { ...generic.capabilities, ...caps },
    register(container) {
      // Subclasses carry no decorator metadata of their own: build them with a factory.
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

class DropsOneInFive extends GenericIpi {
  private sends = 0;
  protected raiseTo(cpu: number): void {
    if (++this.sends % 5 === 0) return; // lost
    this.wires.raise(cpu, LINE_CALL_FUNCTION, this.latencyNs);
    this.ipisRaised++;
  }
  override *sendCallFunctionIpiMask(mask: CpuMask): CpuCode<void> {
    for (let c = mask.first(); c < mask.nrCpuIds; c = mask.next(c)) this.raiseTo(c);
    yield this.sendCostNs;
  }
  override *sendCallFunctionSingleIpi(cpu: number): CpuCode<void> {
    this.raiseTo(cpu);
    yield this.sendCostNs;
  }
}

class WrongCpu extends GenericIpi {
  override *sendCallFunctionSingleIpi(cpu: number): CpuCode<void> {
    yield* super.sendCallFunctionSingleIpi((cpu + 1) % this.machine.nrCpus);
  }
}

class DeliversTwice extends GenericIpi {
  override *sendCallFunctionSingleIpi(cpu: number): CpuCode<void> {
    yield* super.sendCallFunctionSingleIpi(cpu);
    this.wires.raise(cpu, LINE_CALL_FUNCTION, this.latencyNs * 20); // a second, late copy
    this.ipisRaised++;
  }
}

class AlsoToSender extends GenericIpi {
  override *sendCallFunctionIpiMask(mask: CpuMask): CpuCode<void> {
    yield* super.sendCallFunctionIpiMask(mask);
    this.wires.raise(this.machine.current, LINE_CALL_FUNCTION, this.latencyNs);
    this.ipisRaised++;
  }
}

class IgnoresMask extends GenericIpi {
  override *sendCallFunctionIpiMask(): CpuCode<void> {
    const m = this.machine;
    for (let c = 0; c < m.nrCpus; c++)
      if (c !== m.current && m.cpus[c].online) {
        this.wires.raise(c, LINE_CALL_FUNCTION, this.latencyNs);
        this.ipisRaised++;
      }
    yield this.sendCostNs;
  }
}

class ForgetsAck extends GenericIpi {
  override *handleInterrupt(cpu: number, line: number): CpuCode<void> {
    const before = this.acks;
    yield* super.handleInterrupt(cpu, line);
    if (this.interruptsTaken % 3 === 0) this.acks = before; // every third interrupt is never acknowledged
  }
}

class WrongStatistics extends GenericIpi {
  override statistics(): ArchStatistics {
    const s = super.statistics();
    return { ...s, ipisRaised: s.ipisRaised * 2 };
  }
}

/** A backend with transient NACKs that gives up instead of retrying. */
class NeverRetries extends GenericIpi {
  private readonly nackRate = 0.3;
  override *sendCallFunctionIpiMask(mask: CpuMask): CpuCode<void> {
    for (let c = mask.first(); c < mask.nrCpuIds; c = mask.next(c)) yield* this.sendCallFunctionSingleIpi(c);
  }
  override *sendCallFunctionSingleIpi(cpu: number): CpuCode<void> {
    if (this.machine.chooser.chance(this.nackRate, "nack")) {
      this.nacks++;
      yield this.sendCostNs; // NACKed: should back off and retry, but does not
      return;
    }
    yield* super.sendCallFunctionSingleIpi(cpu);
  }
  protected nacks = 0;
  override statistics(): ArchStatistics {
    return { ...super.statistics(), nacks: this.nacks, retries: 0 };
  }
}

/** The same with a correct retry: the kit must pass it. */
class RetriesNacks extends NeverRetries {
  private retries = 0;
  override *sendCallFunctionSingleIpi(cpu: number): CpuCode<void> {
    while (this.machine.chooser.chance(0.3, "nack")) {
      this.nacks++;
      this.retries++;
      yield 2000;
    }
    yield* GenericIpi.prototype.sendCallFunctionSingleIpi.call(this, cpu);
  }
  override statistics(): ArchStatistics {
    return { ...super.statistics(), retries: this.retries };
  }
}

const faultCaps = {
  transientFaults: true,
  transientFaultOptions: { nackRate: 0.3 },
  retryStatistic: "retries",
};
const faultOptions: ArchDescriptor["options"] = {
  ...generic.options,
  nackRate: { type: "number", min: 0, max: 1, default: 0, description: "NACK probability" },
};

function failures(d: ArchDescriptor): ConformanceResult[] {
  return runConformance(d, { cpuSizes: [2, 3, 64], schedules: 8 }).filter((r) => r.status === "fail");
}

describe("the conformance kit fails broken backends with a message naming the problem", () => {
  it.each([
    ["drops one IPI in five", variant("drops", DropsOneInFive), /never took the IPI \(IPI lost\)/],
    [
      "delivers to a wrong CPU",
      variant("wrong-cpu", WrongCpu),
      /IPIs went to the wrong CPU: \[7\] never took one, \[0\] took one without being targets/,
    ],
    ["delivers twice", variant("twice", DeliversTwice), /delivered twice/],
    [
      "delivers to the sender",
      variant("to-sender", AlsoToSender),
      /the sender, CPU 1, took its own IPI \(delivered to the sender\)/,
    ],
    [
      "ignores the mask and broadcasts",
      variant("ignores-mask", IgnoresMask),
      /are not targets but took the IPI \(the mask was not respected\)/,
    ],
    ["forgets the acknowledgement", variant("no-ack", ForgetsAck), /an interrupt was not acknowledged/],
    [
      "reports wrong statistics",
      variant("wrong-stats", WrongStatistics),
      /the backend's statistics are wrong/,
    ],
    [
      "never retries a transient failure",
      variant("no-retry", NeverRetries, faultCaps, faultOptions),
      /transient failures must be retried|was not retried/,
    ],
  ])("%s", (_label, d, message) => {
    const failed = failures(d);
    expect(failed.length).toBeGreaterThan(0);
    expect(failed.map((f) => f.message).join("\n")).toMatch(message);
  });

  it("passes the reference backend and a correct retrying variant", () => {
    expect(failures(generic)).toEqual([]);
    expect(failures(variant("retries", RetriesNacks, faultCaps, faultOptions))).toEqual([]);
  });

  it("skips capability-dependent checks with the reason", () => {
    const rs = runConformance(generic, { cpuSizes: [2], schedules: 1 });
    expect(rs.find((r) => r.name === "permanent-faults-reported")).toMatchObject({
      status: "skipped",
      message: expect.stringMatching(/declares no permanent faults/),
    });
  });
});
