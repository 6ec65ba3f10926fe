import type { Location } from "./model";

/** The names and initial values of a memory's locations, shared by every model. */
export class LocationTable {
  /** Name per location. */
  readonly names: string[] = [];
  /** Initial value per location. */
  readonly initial: number[] = [];

  /** Adds a location; names must be unique so traces and reports can name a location. */
  add(name: string, initial: number): Location {
    if (this.names.includes(name)) throw new RangeError(`memory location "${name}" exists already`);
    if (!Number.isFinite(initial))
      throw new RangeError(`memory location "${name}": initial value ${initial} is not finite`);
    this.names.push(name);
    this.initial.push(initial);
    return this.names.length - 1;
  }

  /** Checks `loc` was handed out by {@link add}. */
  check(loc: Location): void {
    if (!(loc >= 0 && loc < this.names.length && Number.isInteger(loc))) {
      throw new RangeError(`no memory location ${String(loc)} (there are ${this.names.length})`);
    }
  }
}
