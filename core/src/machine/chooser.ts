import type { EventHeap } from "./event-heap";
import { type Prng } from "./prng";

/**
 * The single place every nondeterministic choice of a run is made: which pending event fires
 * next (which CPU steps, when an interrupt lands), and any random outcome a backend or the kernel
 * asks for (fault injection, latency jitter). Normal runs use {@link EarliestEventChooser};
 * the schedule explorer plugs in search strategies through the same interface.
 */
export interface Chooser {
  /** Short name for reports ("earliest-first", "random", "pct", "dfs", "replay"). */
  readonly name: string;
  /**
   * When true the machine always fires the heap's earliest event and never calls `pickEvent`
   * (the fast path of normal runs).
   */
  readonly earliestFirst: boolean;
  /**
   * Pick which pending event fires next: return a heap position in [0, heap.size). Position 0
   * is the earliest. Cancelled events are never offered (the machine purges them first).
   */
  pickEvent(heap: EventHeap): number;
  /** A uniform integer in [0, n); `tag` names the choice (for replay strings and reports). */
  chooseInt(n: number, tag: string): number;
  /** True with probability p; `tag` names the choice. */
  chance(p: number, tag: string): boolean;
  /**
   * An injected fault a backend asks for (its `FaultInjector.chance`): true = the fault happens,
   * with probability p. Optional: without it the fault is a {@link Chooser.chance}. The schedule
   * explorer's choosers implement it to bound the faults one schedule may inject.
   */
  fault?(p: number, tag: string): boolean;
}

/** Normal runs: events in (time, seq) order; random outcomes from a seeded PRNG. */
export class EarliestEventChooser implements Chooser {
  readonly name = "earliest-first";
  readonly earliestFirst = true;
  constructor(private readonly prng: Prng) {}
  pickEvent(): number {
    return 0;
  }
  chooseInt(n: number): number {
    return this.prng.int(n);
  }
  chance(p: number): boolean {
    return this.prng.chance(p);
  }
}
