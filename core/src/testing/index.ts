/**
 * Small helpers for tests of backends and scenarios (`@smpcall/core/testing`).
 */
import type { CpuCode } from "../machine/step";
import type { SmpSystem } from "../system";

/** What a callback saw when it ran. */
export interface CallbackRun {
  readonly info: unknown;
  readonly cpu: number;
  readonly time: number;
  readonly irqsDisabled: boolean;
  readonly hardirq: number;
}

/**
 * A callback that appends what it saw (CPU, time, irq state) to `log`; named `name` so traces
 * and reports show it.
 */
export function callbackRecorder(
  system: SmpSystem,
  log: CallbackRun[],
  name = "recorded_fn",
): (info: unknown, cpu: number) => void {
  const fn = (info: unknown, cpu: number): void => {
    const c = system.machine.cpus[cpu];
    log.push({ info, cpu, time: system.machine.now, irqsDisabled: c.irqsDisabled, hardirq: c.hardirqDepth });
  };
  Object.defineProperty(fn, "name", { value: name });
  return fn;
}

/** Spawn a program written as a generator function: `spawnProgram(sys, 0, function* () { ... })`. */
export function spawnProgram(system: SmpSystem, cpu: number, body: () => CpuCode<unknown>): void {
  system.spawn(cpu, body());
}

/** A program that keeps interrupts disabled on its CPU for `ns`, then re-enables them. */
export function* irqsOffFor(system: SmpSystem, ns: number): CpuCode<void> {
  system.machine.localIrqDisable();
  yield ns;
  system.machine.localIrqEnable();
  yield 0;
}

/** Callbacks run per CPU, as a plain array (from the kernel's counters). */
export function callbacksPerCpu(system: SmpSystem): number[] {
  return Array.from(system.kernel.stats.callbacksOn);
}
