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

  /** {@link key}'s text, and how many locations it names. */
  private keyText = "";
  private keyCount = 0;

  /**
   * The names of the locations in the order they were added, for a memory model's state key.
   * Locations are added as a run first meets them (a csd's words, a CPU's polling flag), so
   * location n is not the same word in every run: a key that lists values by location number
   * must say which word each number is, or two states whose values differ would get one key.
   */
  key(): string {
    if (this.keyCount !== this.names.length) {
      this.keyText = this.names.map((n) => `${n.length}:${n}`).join("");
      this.keyCount = this.names.length;
    }
    return this.keyText;
  }

  /** Checks `loc` was handed out by {@link add}. */
  check(loc: Location): void {
    if (!(loc >= 0 && loc < this.names.length && Number.isInteger(loc))) {
      throw new RangeError(`no memory location ${String(loc)} (there are ${this.names.length})`);
    }
  }
}
