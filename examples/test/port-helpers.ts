import { expect } from "@jest/globals";
import { createSmpSystem, type ArchDescriptor, type RawArchOptions, type SmpSystem } from "@smpcall/core";
import { spawnProgram } from "@smpcall/core/testing";

/** One waiting broadcast from CPU 0 on a fresh machine with `arch`; the run must complete. */
export function broadcastOnce(arch: ArchDescriptor, cpus: number, archOptions: RawArchOptions): SmpSystem {
  const sys = createSmpSystem({ cpus, seed: 1, arch, archOptions });
  spawnProgram(sys, 0, function* () {
    yield* sys.kernel.smpCallFunction(() => undefined, null, true);
  });
  expect(sys.run().status).toBe("completed");
  return sys;
}
