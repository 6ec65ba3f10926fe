import type { Chooser } from "../machine/chooser";
import type { EventHeap } from "../machine/event-heap";
import { EV_CPU_RESUME } from "../machine/event-heap";
import { Prng } from "../machine/prng";
import { SmpcallError, UsageError } from "../errors";
import { KeyWords } from "./state-key";
import { FingerprintTable, fingerprint128 } from "./fingerprint-table";

/** Thrown by a choosing strategy to abandon a run (a state already explored). */
export class PruneRun extends SmpcallError {
  /** The one instance thrown (a prune is frequent; building a stack trace each time is not free). */
  static readonly instance = new PruneRun();
  private constructor() {
    // SMPCALL_CONTROL: control flow, not a failure; the machine lets it through unwrapped.
    super("SMPCALL_CONTROL", "state already explored");
  }
}

/**
 * Records every choice as (picked, options). Events are offered in a canonical order — by
 * (time, seq) — so a choice index means the same thing on replay. Subclasses decide.
 */
export abstract class RecordingChooser implements Chooser {
  abstract readonly name: string;
  readonly earliestFirst = false;
  /** Choices made, in order. */
  readonly choices: number[] = [];
  /** How many options each choice had. */
  readonly options: number[] = [];
  /** Heap positions of the current candidates, canonically ordered (reused). */
  private readonly order: number[] = [];
  /**
   * Events picked so far this run, the one being picked or fired included: what the run has
   * used of its step limit (the machine checks the limit before each pick).
   */
  events = 0;

  /** Decide among `n` options at choice `index` (the events are in canonical order). */
  protected abstract decide(
    n: number,
    index: number,
    heap: EventHeap | null,
    order: readonly number[],
  ): number;

  pickEvent(heap: EventHeap): number {
    this.events++;
    const order = this.order;
    order.length = heap.size;
    // Insertion sort by (time, seq): a handful of events, no comparator closure.
    for (let i = 0; i < heap.size; i++) {
      const id = heap.idAt(i);
      const t = heap.time(id),
        q = heap.seq(id);
      let j = i;
      for (; j > 0; j--) {
        const o = heap.idAt(order[j - 1]);
        const to = heap.time(o);
        if (to < t || (to === t && heap.seq(o) < q)) break;
        order[j] = order[j - 1];
      }
      order[j] = i;
    }
    const forced = this.forcedChoice(heap, order);
    let k: number;
    if (forced >= 0 && order.length > 1) {
      // Recorded with one option: the search never branches here, but a replay follows it.
      this.choices.push(forced);
      this.options.push(1);
      k = forced;
    } else {
      k = order.length === 1 ? 0 : this.record(order.length, heap, order);
    }
    this.picked(heap, order[k]);
    return order[k];
  }

  /** A strategy may force a choice (returns its index in `order`) instead of branching; -1 = branch. */
  protected forcedChoice(_heap: EventHeap, _order: readonly number[]): number {
    return -1;
  }

  /** Called with the heap position picked. */
  protected picked(_heap: EventHeap, _position: number): void {}

  chooseInt(n: number): number {
    return n <= 1 ? 0 : this.record(n, null, []);
  }

  chance(p: number): boolean {
    if (p <= 0) return false;
    if (p >= 1) return true;
    return this.record(2, null, []) === 1;
  }

  /**
   * At most this many injected faults per run (see {@link RecordingChooser.fault}); default
   * unbounded. Set before the run starts.
   */
  faultBound = Number.POSITIVE_INFINITY;
  /** Injected faults this run has taken (a backend fault choice answered "fault"). */
  faultsUsed = 0;
  /** Backend fault choices this run met (p strictly between 0 and 1), forced ones included. */
  faultChoices = 0;

  /**
   * A backend's injected fault (`FaultInjector.chance`): a choice between no fault (0) and the
   * fault (1), as {@link RecordingChooser.chance}; but once the run has taken `faultBound`
   * faults, "no fault" is forced: recorded with one option (the search never branches there,
   * and a replay reads the 0 as it reads any choice). p <= 0 and p >= 1 are no choice: never,
   * always (not counted).
   */
  fault(p: number): boolean {
    if (p <= 0) return false;
    if (p >= 1) return true;
    this.faultChoices++;
    if (this.faultsUsed >= this.faultBound) {
      this.forcedNoFault(this.choices.length);
      this.choices.push(0);
      this.options.push(1);
      return false;
    }
    const hit = this.record(2, null, []) === 1;
    if (hit) this.faultsUsed++;
    return hit;
  }

  /** Called before a forced "no fault" at choice `index` is recorded (a replay checks its schedule there). */
  protected forcedNoFault(_index: number): void {}

  private record(n: number, heap: EventHeap | null, order: readonly number[]): number {
    const k = this.decide(n, this.choices.length, heap, order);
    this.choices.push(k);
    this.options.push(n);
    return k;
  }
}

/** Seeded random walk: each choice uniform among its options. */
export class RandomWalkChooser extends RecordingChooser {
  readonly name = "random";
  private readonly prng: Prng;
  constructor(seed: number) {
    super();
    this.prng = new Prng(seed).fork("random-walk");
  }
  protected decide(n: number): number {
    return this.prng.int(n);
  }
}

/**
 * PCT (probabilistic concurrency testing): each CPU gets a random priority; the enabled event of
 * the highest-priority CPU fires; at `depth - 1` random choice points the CPU that ran is demoted
 * below all others. Finds bugs of depth d with probability >= 1/(n k^(d-1)).
 */
export class PctChooser extends RecordingChooser {
  readonly name = "pct";
  private readonly prng: Prng;
  private readonly priority: number[];
  private readonly changePoints: Set<number>;
  private lowest = 0;

  constructor(seed: number, cpus: number, depth: number, expectedSteps = 200) {
    super();
    this.prng = new Prng(seed).fork("pct");
    this.priority = Array.from({ length: cpus }, () => depth + this.prng.int(1 << 20));
    this.changePoints = new Set(
      Array.from({ length: Math.max(0, depth - 1) }, () => this.prng.int(expectedSteps)),
    );
  }

  protected decide(n: number, index: number, heap: EventHeap | null, order: readonly number[]): number {
    if (heap === null) return this.prng.int(n);
    let best = 0;
    let bestPrio = -Infinity;
    for (let i = 0; i < n; i++) {
      const cpu = heap.cpu(heap.idAt(order[i]));
      const p = cpu >= 0 ? this.priority[cpu] : -1;
      if (p > bestPrio) {
        bestPrio = p;
        best = i;
      }
    }
    if (this.changePoints.has(index)) {
      const cpu = heap.cpu(heap.idAt(order[best]));
      if (cpu >= 0) this.priority[cpu] = --this.lowest;
    }
    return best;
  }
}

/** The dfs search's explored states. */
export class StateCache {
  /** Renamed wait descriptions, memoised (see {@link KeyWords}). */
  readonly words = new KeyWords();
  /** The states, by 128-bit fingerprint of their key (see {@link FingerprintTable}). */
  readonly table: FingerprintTable;
  private readonly fp = new Int32Array(4);

  /**
   * A cache for searches of up to `cpus` CPUs (the budget is kept per CPU last to run), in its
   * own growable table, or in `table` (a shared one: `--workers`).
   */
  constructor(cpus = 64, table?: FingerprintTable) {
    this.table = table ?? new FingerprintTable({ budgetSlots: cpus + 1 });
  }

  /** Distinct states stored. */
  get size(): number {
    return this.table.size;
  }

  /**
   * True if the state `key` was explored before with at least this much preemption budget left
   * for every future (the same CPU last to run and no more than `used` preemptions) and no more
   * of the step limit left (no fewer than `steps` events fired: see
   * {@link FingerprintTable.visit}). Otherwise records this visit and returns false. An
   * unbounded search passes lastCpu -1 and used 0.
   */
  visit(key: string, lastCpu: number, used: number, steps = 0): boolean {
    fingerprint128(key, this.fp);
    return this.table.visit(this.fp, lastCpu + 1, used, steps);
  }
}

/**
 * Replays a prefix of choices, then takes the first option at every new choice point (the DFS
 * step). With `seen`, a new choice point whose state was already explored abandons the run.
 * Under a preemption bound a state counts as explored only if an earlier visit had at least as
 * much budget left for every future: the same CPU ran last (switching away from it is what costs
 * a preemption) and no more preemptions were used. A visit with more budget left explores
 * futures the first could not.
 * With a preemption bound, once the run has switched away from a CPU that could have continued
 * `preemptionBound` times, the CPU that ran last keeps running whenever it can (no branching).
 */
export class ReplayChooser extends RecordingChooser {
  readonly name = "replay";
  private lastCpu = -1;
  /** Preemptions taken so far on this run. */
  preemptions = 0;
  constructor(
    private readonly prefix: readonly number[],
    private readonly stateKey?: () => string,
    private readonly seen?: StateCache,
    private readonly preemptionBound = Number.POSITIVE_INFINITY,
    /** The renaming of CPU ids the last state key used (symmetry), applied to the CPU last to run. */
    private readonly renameCpu: (cpu: number) => number = (cpu) => cpu,
    /**
     * The states at the first `storePrefix` choices of the prefix are stored in `seen` (never
     * pruned): a subtree's root, whose other branches other subtrees search.
     */
    private readonly storePrefix = 0,
    /** At most this many injected faults per run ({@link RecordingChooser.faultBound}). */
    faultBound = Number.POSITIVE_INFINITY,
  ) {
    super();
    this.faultBound = faultBound;
  }

  /** Index in `order` of the last CPU's resume event (-1: none; `order` null = heap order). */
  private continuation(heap: EventHeap, order: readonly number[] | null): number {
    if (this.lastCpu < 0) return -1;
    for (let i = 0; i < heap.size; i++) {
      const id = heap.idAt(order === null ? i : order[i]);
      if (heap.kind(id) === EV_CPU_RESUME && heap.cpu(id) === this.lastCpu) return i;
    }
    return -1;
  }

  protected override forcedChoice(heap: EventHeap, order: readonly number[]): number {
    return this.preemptions >= this.preemptionBound ? this.continuation(heap, order) : -1;
  }

  protected override picked(heap: EventHeap, position: number): void {
    const id = heap.idAt(position);
    const cont = this.continuation(heap, null);
    if (cont >= 0 && cont !== position) this.preemptions++;
    if (heap.kind(id) === EV_CPU_RESUME) this.lastCpu = heap.cpu(id);
  }
  protected decide(n: number, index: number): number {
    if (index < this.prefix.length) {
      const k = this.prefix[index];
      if (k >= n)
        throw new UsageError(
          `schedule choice ${index} is ${k} but only ${n} options exist: the schedule does not match this scenario, policy or CPU count`,
        );
      if (index < this.storePrefix) this.visitState();
      return k;
    }
    if (this.visitState()) throw PruneRun.instance;
    return 0;
  }

  /** Store the state at this choice point in `seen`; true if it was explored before (with as much budget). */
  private visitState(): boolean {
    if (!this.seen || !this.stateKey) return false;
    // Under a bound, switching away from the CPU that ran last is what costs a preemption.
    const bounded = Number.isFinite(this.preemptionBound);
    // Under a fault bound the faults left are part of what the state's futures can do: a state
    // met after f faults is another state than the same one met after fewer (no dominance is
    // kept, so it is explored again: sound, with less reduction).
    const key =
      this.faultsUsed > 0 && Number.isFinite(this.faultBound)
        ? `${this.stateKey()}\u0001faults ${this.faultsUsed}`
        : this.stateKey();
    const last = bounded && this.lastCpu >= 0 ? this.renameCpu(this.lastCpu) : -1;
    // The step limit: a state met with more events fired than when it was explored has less of
    // the limit left, and a future that fit then may not fit now (or the run went round a cycle
    // back to it: a livelock); it is explored again. Met with fewer fired, it is covered: any run
    // from it that would pass the limit now passed it then, and was reported.
    return this.seen.visit(key, last, bounded ? this.preemptions : 0, this.events);
  }
}
