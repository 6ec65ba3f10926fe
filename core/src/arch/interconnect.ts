import type { RunProblem } from "../machine/problems";

/**
 * The wires between CPUs as a backend sees them. The machine implements it. Lines are 0..31 per
 * CPU; a raise of a line already pending merges with it (one interrupt for both), like an edge
 * latched in an IRR bit. Lower lines are taken first.
 */
export interface Interconnect {
  /** Raise `line` at `target` after `delayNs`; returns the trace flow id of the raise. */
  raise(target: number, line: number, delayNs: number): number;
  /**
   * Is `line` pending at `cpu`: raised, arrived and not yet taken? A raise still in flight (its
   * `delayNs` not yet elapsed) is not pending; a CPU's `pendingLines` is the same set as bits.
   */
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
  /**
   * Lines (bit n = line n) a CPU takes even with interrupts disabled, but not inside the handler
   * of such a line: for traps that `local_irq_disable` does not mask (sparc64's cpu-mondo trap
   * under a raised PIL). Call once, in the constructor. Default: none.
   */
  setTrapLines(mask: number): void;
  /**
   * The kernel panics (e.g. a sparc64 mondo timeout): the problem is recorded with kind "panic"
   * and the run ends with status "panic" at the next event, after the end-of-run checks report
   * the calls left queued. Call it from CPU code, then yield.
   */
  panic(problem: Omit<RunProblem, "kind">): void;
  /** Report a hardware failure (e.g. a CPU in error): the run then exits with status 1. */
  reportProblem(problem: RunProblem): void;
}
