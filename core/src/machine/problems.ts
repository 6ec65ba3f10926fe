/** What a run can find wrong, and the deadlock report. */

export type RunProblemKind =
  | "deadlock"
  | "stuck-csd"
  | "lost-call"
  | "arch-error"
  | "step-limit"
  | "invariant"
  | "panic"
  /** Under a weak memory model: a CPU read shared state older than it must (a barrier missing). */
  | "stale-read";

/** One problem found during a run. Any problem makes the CLI exit with status 1. */
export interface RunProblem {
  readonly kind: RunProblemKind;
  /** Virtual time (ns). */
  readonly time: number;
  /** The CPU most concerned, when there is one. */
  readonly cpu?: number;
  /** What happened, in a sentence or a few lines. */
  readonly message: string;
}

/** A CPU that could not make progress. */
export interface BlockedCpu {
  readonly cpu: number;
  /** What it spins on, e.g. `csd#7 (do_flush) queued on CPU 1 by CPU 0`. */
  readonly waitsFor: string;
  /** The CPU that must act to end the wait, or -1. */
  readonly holder: number;
  readonly irqsDisabled: boolean;
  readonly hardirq: number;
  readonly waitedNs: number;
  /** Pending interrupt lines, by name. */
  readonly pending: string;
}

/** What the machine reports when no CPU can make progress. */
export interface DeadlockReport {
  /** When the last progress happened (ns): the moment no CPU could move any more. */
  readonly stalledAt: number;
  /** When the machine gave up (after the watchdog had its say), ns. */
  readonly detectedAt: number;
  readonly cpus: readonly BlockedCpu[];
  /** CPUs in a wait-for cycle, e.g. [0, 1] for 0 -> 1 -> 0; null when there is no cycle. */
  readonly cycle: number[] | null;
  readonly message: string;
}

/** Follow wait-for edges (cpu -> holder) and return the first cycle found, lowest CPU first. */
export function findWaitCycle(blocked: readonly BlockedCpu[]): number[] | null {
  const holder = new Map<number, number>();
  for (const b of blocked) holder.set(b.cpu, b.holder);
  for (const b of blocked) {
    const path: number[] = [];
    const seen = new Set<number>();
    let x: number | undefined = b.cpu;
    while (x !== undefined && x >= 0 && !seen.has(x)) {
      seen.add(x);
      path.push(x);
      x = holder.get(x);
    }
    if (x !== undefined && x >= 0 && seen.has(x)) {
      const cyc = path.slice(path.indexOf(x));
      const min = Math.min(...cyc);
      const k = cyc.indexOf(min);
      return [...cyc.slice(k), ...cyc.slice(0, k)];
    }
  }
  return null;
}
