import { descriptor as generic } from "@smpcall/arch-generic";
import { createSmpSystem, type CpuCode, type SmpSystem, type SystemConfig } from "@smpcall/core";

/** A generic-backend system for tests (trace on, jitter-free unless asked). */
export function testSystem(cpus: number, extra: Partial<SystemConfig> = {}): SmpSystem {
  return createSmpSystem({ cpus, seed: 1, arch: generic, trace: true, ...extra, cost: { deliveryJitter: 0, ...extra.cost } });
}

/** What a callback saw when it ran. */
export interface Run {
  info: unknown;
  cpu: number;
  time: number;
  irqsDisabled: boolean;
  hardirq: number;
}

/** A callback that records every run into `log`. */
export function recorder(sys: SmpSystem, log: Run[], name = "recorded_fn"): (info: unknown, cpu: number) => void {
  const fn = (info: unknown, cpu: number): void => {
    const c = sys.machine.cpus[cpu];
    log.push({ info, cpu, time: sys.machine.now, irqsDisabled: c.irqsDisabled, hardirq: c.hardirqDepth });
  };
  Object.defineProperty(fn, "name", { value: name });
  return fn;
}

/** Spawn a program written as a generator function. */
export function program(sys: SmpSystem, cpu: number, body: () => CpuCode<unknown>): void {
  sys.spawn(cpu, body());
}
