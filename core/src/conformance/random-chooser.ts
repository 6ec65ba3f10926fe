import type { Chooser } from "../machine/chooser";
import type { EventHeap } from "../machine/event-heap";
import { Prng } from "../machine/prng";

/**
 * A seeded random schedule: every pending event (any CPU's next step, any interrupt in flight)
 * is equally likely to fire next, regardless of time. A small explorer for the kit.
 */
export class RandomScheduleChooser implements Chooser {
  readonly name = "random";
  readonly earliestFirst = false;
  private readonly prng: Prng;
  constructor(seed: number) {
    this.prng = new Prng(seed).fork("schedule");
  }
  pickEvent(heap: EventHeap): number {
    return this.prng.int(heap.size);
  }
  chooseInt(n: number): number {
    return this.prng.int(n);
  }
  chance(p: number): boolean {
    return this.prng.chance(p);
  }
}
