import type { RunProblem } from "../machine/problems";

/**
 * The wires between CPUs as a backend sees them. The machine implements it. Lines are 0..31 per
 * CPU; a raise of a line already pending merges with it (one interrupt for both), like an edge
 * latched in an IRR bit. Lower lines are taken first.
 */
export interface Interconnect {
  /** Raise `line` at `target` after `delayNs`; returns the trace flow id of the raise. */
  raise(target: number, line: number, delayNs: number): number;
  /** Is `line` raised and not yet taken at `cpu`? */
  isPending(cpu: number, line: number): boolean;
  /** Drop a pending line without taking it. */
  clearPending(cpu: number, line: number): void;
  /** Run `fn` outside any CPU after `delayNs` (hardware acting on its own). */
  schedule(delayNs: number, fn: () => void): void;
  /**
   * Call `fn(cpu)` whenever a CPU is brought up (`cpuUp`), before it runs again: for hardware
   * that a boot resets (x86 INIT/SIPI clears the local APIC's IRR). Register once, in the constructor.
   */
  onCpuBoot(fn: (cpu: number) => void): void;
  /** Report a hardware failure (e.g. a CPU in error): the run then exits with status 1. */
  reportProblem(problem: RunProblem): void;
}
