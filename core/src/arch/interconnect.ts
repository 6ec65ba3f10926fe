import type { RunProblem } from "../machine/problems";

/**
 * The wires between CPUs as a backend sees them. The machine implements it. Lines are 0..31 per
 * CPU; a raise of a line already pending merges with it (one interrupt for both), like an edge
 * latched in an IRR bit, unless the backend made it a counting line ({@link setCountingLines}).
 * Lower lines are taken first.
 */
export interface Interconnect {
  /**
   * Raise `line` at `target` after `sentAfterNs` (default 0: the sender's own time before the
   * signal leaves, e.g. its slot in a batch written in one step; exact) plus `delayNs` (the
   * delivery latency, varied by the cost model's jitter); returns the trace flow id of the raise.
   */
  raise(target: number, line: number, delayNs: number, sentAfterNs?: number): number;
  /**
   * Is `line` pending at `cpu`: raised, arrived and not yet taken? A raise still in flight (its
   * `delayNs` not yet elapsed) is not pending; a CPU's `pendingLines` is the same set as bits.
   */
  isPending(cpu: number, line: number): boolean;
  /**
   * Raises of `line` arrived at `cpu` and not yet taken: 0 or 1 on a latch line, any number on a
   * counting line. A raise in flight is not counted.
   */
  pendingCount(cpu: number, line: number): number;
  /** Drop a pending line without taking it (a counting line drops every raise it kept). */
  clearPending(cpu: number, line: number): void;
  /**
   * Lines (bit n = line n) that keep every raise: N raises that arrive are N interrupts, taken one
   * after the other, where a latch line would merge them into one. For a signal pending once per
   * sender (s390's emergency signal) or per message. Call once, in the constructor. Default: none.
   */
  setCountingLines(mask: number): void;
  /**
   * Is `cpu` running (SIGP SENSE RUNNING): not dead and not halted in idle waiting for an
   * interrupt. A CPU polling in idle, spinning, or running task or handler code is running.
   */
  isRunning(cpu: number): boolean;
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
   * `held` true: the running CPU takes no interrupt, trap lines included, until called again with
   * false; raises that arrive meanwhile stay pending and are taken after the release. For a send
   * path made of several steps that runs with traps off (sparc64's cpu_mondo_send: the hypervisor
   * takes no trap while it walks the CPU list). Only with interrupts disabled (refused otherwise);
   * release it before the send path returns.
   */
  holdTraps(held: boolean): void;
  /**
   * The kernel panics (e.g. a sparc64 mondo timeout): the problem is recorded with kind "panic"
   * and the run ends with status "panic" at the next event, after the end-of-run checks report
   * the calls left queued. Call it from CPU code, then yield.
   */
  panic(problem: Omit<RunProblem, "kind">): void;
  /** Report a hardware failure (e.g. a CPU in error): the run then exits with status 1. */
  reportProblem(problem: RunProblem): void;
}
