import { LocationTable } from "./locations";
import type { AccessOrder, BarrierKind, Location, SharedMemory } from "./model";

/** Sequential consistency: one value per location, every access visible at once; no choices. */
export class ScMemory implements SharedMemory {
  readonly model = "sc";
  private readonly table = new LocationTable();
  private readonly values: number[] = [];

  location(name: string, initial: number): Location {
    const loc = this.table.add(name, initial);
    this.values.push(initial);
    return loc;
  }
  nameOf(loc: Location): string {
    return this.table.names[loc];
  }
  load(_cpu: number, loc: Location, _order?: AccessOrder): number {
    this.table.check(loc);
    return this.values[loc];
  }
  loadNewest(cpu: number, loc: Location): number {
    return this.load(cpu, loc);
  }
  store(_cpu: number, loc: Location, value: number, _order?: AccessOrder): void {
    this.table.check(loc);
    this.values[loc] = value;
  }
  rmw(_cpu: number, loc: Location, update: (old: number) => number | undefined): number {
    this.table.check(loc);
    const old = this.values[loc];
    const next = update(old);
    if (next !== undefined) this.values[loc] = next;
    return old;
  }
  barrier(_cpu: number, _kind: BarrierKind): void {}
  pendingDrains(): number {
    return 0;
  }
  drainOne(): void {}
  finalValue(loc: Location): number {
    return this.values[loc];
  }
  stateKey(): string {
    // Empty while no location exists (symmetry reduction needs an empty memory key).
    return this.values.length === 0 ? "" : `${this.table.key()}#${this.values.join(",")}`;
  }
}
