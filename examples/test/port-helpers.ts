import { expect } from "@jest/globals";
import { createSmpSystem, type ArchDescriptor, type RawArchOptions, type SmpSystem } from "@smpcall/core";
import { spawnProgram } from "@smpcall/core/testing";

/**
 * One waiting broadcast from CPU 0 on a fresh machine with `arch`; the run must complete. With
 * `rescheduleAt` >= 0, CPU 1 sends CPU 0 a reschedule IPI at that time (to see where the sender
 * takes an interrupt during its send); `traced` runs it traced and without delivery jitter.
 */
export function broadcastOnce(
  arch: ArchDescriptor,
  cpus: number,
  archOptions: RawArchOptions,
  rescheduleAt = -1,
  traced = false,
): SmpSystem {
  const sys = createSmpSystem({
    cpus,
    seed: 1,
    arch,
    archOptions,
    ...(traced ? { trace: true, cost: { deliveryJitter: 0 } } : {}),
  });
  spawnProgram(sys, 0, function* () {
    yield* sys.kernel.smpCallFunction(() => undefined, null, true);
  });
  if (rescheduleAt >= 0)
    spawnProgram(sys, 1, function* () {
      yield rescheduleAt;
      yield* sys.arch.sendRescheduleIpi(0);
    });
  expect(sys.run().status).toBe("completed");
  return sys;
}
