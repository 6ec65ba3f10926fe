import { LocationTable } from "./locations";
import type { AccessOrder, BarrierKind, Location, MemoryChoices, SharedMemory } from "./model";

/** What a CPU has seen: per location, the index of the oldest store it may still read. */
type View = number[];

/** One CPU's ordering state. */
interface CpuViews {
  /** Per location, the oldest store this CPU may still read (coherence). */
  view: View;
  /** Views carried by stores this CPU has read but not yet acquired; `smp_rmb` acquires them. */
  readPending: View;
  /** The view at this CPU's last `smp_wmb`: stores after it carry it to their readers. */
  wmbView: View | null;
}

function join(into: View, from: View): void {
  for (let i = 0; i < from.length; i++) if (from[i] > into[i]) into[i] = from[i];
}

/**
 * A weak memory model in the spirit of the Linux-kernel memory model (LKMM), built the way
 * operational C11 checkers are: every location keeps the history of its stores in coherence
 * order, every CPU a view (per location, the oldest store it may still read). A load may read any
 * store at or after its CPU's view — which one is a choice — and then cannot read older ones.
 * Ordering moves views between CPUs:
 * - a release store carries its CPU's whole view; an acquire load that reads it takes it over;
 * - `smp_wmb` snapshots the view: stores after it carry that snapshot, and `smp_rmb` makes the
 *   snapshots of stores read before it part of the reader's view (MP with wmb + rmb);
 * - `smp_mb` (and `smp_mb__after_atomic`) does both and joins a global view that every full
 *   barrier passes through, so of two CPUs' full barriers the later sees all the earlier saw
 *   (SB with mb on both sides);
 * - an RMW reads the newest store (atomicity) and is a full barrier before and after unless
 *   relaxed.
 * Not modelled: load buffering (a load reads only stores already made, so LB's weak outcome is
 * never produced), address/control dependencies (they order nothing extra here; with no LB there
 * is nothing for them to forbid) and LKMM's non-multicopy-atomic propagation beyond what views
 * give.
 */
export class LkmmMemory implements SharedMemory {
  readonly model = "lkmm";
  private readonly table = new LocationTable();
  /** Per location: values of its stores in coherence order (index 0: the initial value). */
  private readonly history: number[][] = [];
  /** Per location and store: the view that store carries to an acquiring reader (or null). */
  private readonly carried: (View | null)[][] = [];
  private readonly cpus: CpuViews[];
  /** The view every full barrier joins. */
  private readonly global: View = [];

  constructor(
    cpus: number,
    private readonly choices: MemoryChoices,
  ) {
    this.cpus = Array.from({ length: cpus }, () => ({ view: [], readPending: [], wmbView: null }));
  }

  location(name: string, initial: number): Location {
    const loc = this.table.add(name, initial);
    this.history.push([initial]);
    this.carried.push([null]);
    this.global.push(0);
    for (const c of this.cpus) {
      c.view.push(0);
      c.readPending.push(0);
      c.wmbView?.push(0);
    }
    return loc;
  }
  nameOf(loc: Location): string {
    return this.table.names[loc];
  }

  load(cpu: number, loc: Location, order: AccessOrder = "plain"): number {
    this.table.check(loc);
    const c = this.cpus[cpu];
    const hist = this.history[loc];
    const oldest = c.view[loc];
    // Choice 0 is the newest store (what sequential consistency would read).
    const k =
      hist.length - oldest > 1
        ? this.choices.chooseInt(hist.length - oldest, `read ${this.table.names[loc]}`)
        : 0;
    const index = hist.length - 1 - k;
    c.view[loc] = index;
    const carried = this.carried[loc][index];
    if (carried !== null) join(order === "acquire" ? c.view : c.readPending, carried);
    return hist[index];
  }

  loadNewest(cpu: number, loc: Location, order: AccessOrder = "plain"): number {
    this.table.check(loc);
    const c = this.cpus[cpu];
    const index = this.history[loc].length - 1;
    c.view[loc] = index;
    const carried = this.carried[loc][index];
    if (carried !== null) join(order === "acquire" ? c.view : c.readPending, carried);
    return this.history[loc][index];
  }

  store(cpu: number, loc: Location, value: number, order: AccessOrder = "plain"): void {
    this.table.check(loc);
    const c = this.cpus[cpu];
    const hist = this.history[loc];
    hist.push(value);
    c.view[loc] = hist.length - 1;
    this.carried[loc].push(order === "release" ? c.view.slice() : c.wmbView);
  }

  rmw(cpu: number, loc: Location, update: (old: number) => number | undefined, relaxed = false): number {
    this.table.check(loc);
    const c = this.cpus[cpu];
    if (!relaxed) this.fullBarrier(c);
    const hist = this.history[loc];
    const newest = hist.length - 1;
    const old = hist[newest];
    c.view[loc] = newest;
    const carried = this.carried[loc][newest];
    if (carried !== null) join(relaxed ? c.readPending : c.view, carried);
    const next = update(old);
    if (next !== undefined) {
      hist.push(next);
      c.view[loc] = hist.length - 1;
      this.carried[loc].push(relaxed ? c.wmbView : c.view.slice());
    }
    if (!relaxed) this.fullBarrier(c);
    return old;
  }

  barrier(cpu: number, kind: BarrierKind): void {
    const c = this.cpus[cpu];
    if (kind === "rmb") join(c.view, c.readPending);
    else if (kind === "wmb") c.wmbView = c.view.slice();
    else this.fullBarrier(c);
  }

  pendingDrains(): number {
    return 0;
  }
  drainOne(): void {}

  finalValue(loc: Location): number {
    const hist = this.history[loc];
    return hist[hist.length - 1];
  }

  stateKey(): string {
    const v = (x: View | null) => (x === null ? "-" : x.join("."));
    const locs = this.history.map((h, i) => `${h.join(".")}/${this.carried[i].map(v).join("/")}`);
    const cpus = this.cpus.map((c) => `${v(c.view)}/${v(c.readPending)}/${v(c.wmbView)}`);
    return `${this.table.key()}#${locs.join(",")}|${cpus.join(",")}|${v(this.global)}`;
  }

  private fullBarrier(c: CpuViews): void {
    join(c.view, c.readPending);
    join(c.view, this.global);
    join(this.global, c.view);
    c.wmbView = c.view.slice();
  }
}
