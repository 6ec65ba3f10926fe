import { describe, expect, it } from "@jest/globals";
import { createSmpSystem } from "@smpcall/core";
import { spawnProgram } from "@smpcall/core/testing";
import { descriptor, LINE_RESCHEDULE } from "@smpcall/arch-generic";

describe("arch-generic", () => {
  it("smp_send_reschedule to an offline CPU raises its reschedule line (no arch check, as 6.1's generic code has none): pending while it is offline, taken once it is back", () => {
    const sys = createSmpSystem({ cpus: 4, seed: 1, arch: descriptor, trace: true });
    const schedulerIpisOn: number[] = [];
    const schedulerIpi = sys.kernel.schedulerIpi.bind(sys.kernel);
    sys.kernel.schedulerIpi = () => {
      schedulerIpisOn.push(sys.machine.current);
      schedulerIpi();
    };
    expect(sys.kernel.cpuDown(3)).toBe(0);
    let pendingWhileOffline = false;
    let takenWhileOffline = -1;
    spawnProgram(sys, 0, function* () {
      yield 1000;
      yield* sys.kernel.smpSendReschedule(3);
      yield 10_000;
      pendingWhileOffline = sys.machine.isPending(3, LINE_RESCHEDULE);
      takenWhileOffline = schedulerIpisOn.length;
      sys.kernel.cpuUp(3);
      yield 10_000;
    });
    expect(sys.run().status).toBe("completed");
    expect(pendingWhileOffline).toBe(true);
    expect(takenWhileOffline).toBe(0);
    expect(schedulerIpisOn).toEqual([3]);
    expect(sys.arch.statistics()).toMatchObject({ rescheduleIpis: 1 });
    expect(sys.kernel.stats.rescheduleIpis).toBe(1);
    expect(sys.kernel.warnings.records).toEqual([]);
  });
});
