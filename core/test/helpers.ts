import { descriptor as generic } from "@smpcall/arch-generic";
import { createSmpSystem, type SmpSystem, type SystemConfig } from "@smpcall/core";
export {
  callbackRecorder as recorder,
  spawnProgram as program,
  type CallbackRun as Run,
} from "@smpcall/core/testing";

/** A generic-backend system for tests (trace on, jitter-free unless asked). */
export function testSystem(cpus: number, extra: Partial<SystemConfig> = {}): SmpSystem {
  return createSmpSystem({
    cpus,
    seed: 1,
    arch: generic,
    trace: true,
    ...extra,
    cost: { deliveryJitter: 0, ...extra.cost },
  });
}
