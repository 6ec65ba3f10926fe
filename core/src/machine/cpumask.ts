import { InvalidArgumentError, describeValue } from "../errors";

/** Largest CpuMask (CPU ids): far above any machine (8192 CPUs), small enough to catch garbage. */
export const MAX_MASK_BITS = 1 << 20;

/**
 * A fixed-width CPU bitmap (Linux `struct cpumask`): one bit per CPU id in 32-bit words.
 * All operations are word-at-a-time; nothing allocates per bit.
 */
export class CpuMask {
  /** The bits, 32 CPUs per word, CPU `n` is bit `n & 31` of word `n >>> 5`. */
  readonly words: Uint32Array;

  /** @param nrCpuIds number of CPU ids the mask can hold (Linux `nr_cpu_ids`). */
  constructor(readonly nrCpuIds: number) {
    if (
      typeof nrCpuIds !== "number" ||
      !Number.isInteger(nrCpuIds) ||
      nrCpuIds < 1 ||
      nrCpuIds > MAX_MASK_BITS
    )
      throw new InvalidArgumentError(
        `a CpuMask holds 1..${MAX_MASK_BITS} CPU ids (the machine's CPU count), got ${describeValue(nrCpuIds)}`,
      );
    this.words = new Uint32Array((nrCpuIds + 31) >>> 5);
  }

  /** A mask of `nrCpuIds` bits with the given CPUs set. */
  static of(nrCpuIds: number, cpus: Iterable<number>): CpuMask {
    const m = new CpuMask(nrCpuIds);
    if (cpus === null || typeof (cpus as Partial<Iterable<number>>)?.[Symbol.iterator] !== "function")
      throw new InvalidArgumentError(`CpuMask.of needs a list of CPU ids, got ${describeValue(cpus)}`);
    for (const c of cpus) m.set(c);
    return m;
  }

  /** Parse a Linux cpulist such as `0-3,8,10-11`. Throws RangeError naming the bad part. */
  static parse(nrCpuIds: number, list: string): CpuMask {
    const m = new CpuMask(nrCpuIds);
    if (typeof list !== "string")
      throw new InvalidArgumentError(`a cpulist is a string such as "0-3,8", got ${describeValue(list)}`);
    const text = list.trim();
    if (text === "") return m;
    for (const part of text.split(",")) {
      const r = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
      if (!r) throw new InvalidArgumentError(`bad cpulist part "${part}" in "${list}": expected N or N-M`);
      const lo = Number(r[1]);
      const hi = r[2] === undefined ? lo : Number(r[2]);
      if (hi < lo || hi >= nrCpuIds)
        throw new InvalidArgumentError(`cpulist part "${part}" is outside 0-${nrCpuIds - 1}`);
      for (let c = lo; c <= hi; c++) m.set(c);
    }
    return m;
  }

  private check(cpu: number): void {
    if (!(cpu >= 0 && cpu < this.nrCpuIds) || !Number.isInteger(cpu)) {
      throw new InvalidArgumentError(
        `CPU ${describeValue(cpu)} is outside the mask (0-${this.nrCpuIds - 1})`,
      );
    }
  }

  /** Set `cpu`'s bit. */
  set(cpu: number): this {
    this.check(cpu);
    this.words[cpu >>> 5] |= 1 << (cpu & 31);
    return this;
  }

  /** Clear `cpu`'s bit. */
  clear(cpu: number): this {
    this.check(cpu);
    this.words[cpu >>> 5] &= ~(1 << (cpu & 31));
    return this;
  }

  /** Is `cpu` set? Out-of-range ids are simply not set. */
  test(cpu: number): boolean {
    if (cpu < 0 || cpu >= this.nrCpuIds) return false;
    return (this.words[cpu >>> 5] & (1 << (cpu & 31))) !== 0;
  }

  /** Clear `cpu` and return whether it was set. */
  testAndClear(cpu: number): boolean {
    const was = this.test(cpu);
    if (was) this.words[cpu >>> 5] &= ~(1 << (cpu & 31));
    return was;
  }

  /** Set `cpu` and return whether it was set before. */
  testAndSet(cpu: number): boolean {
    const was = this.test(cpu);
    this.set(cpu);
    return was;
  }

  /** Set every CPU id below `nrCpuIds`. */
  setAll(): this {
    this.words.fill(0xffffffff);
    const tail = this.nrCpuIds & 31;
    if (tail !== 0) this.words[this.words.length - 1] = (1 << tail) - 1;
    return this;
  }

  /** Clear every bit. */
  clearAll(): this {
    this.words.fill(0);
    return this;
  }

  /** Copy `src` into this mask (same width). */
  copyFrom(src: CpuMask): this {
    this.sameWidth("copyFrom", src);
    this.words.set(src.words);
    return this;
  }

  /** Masks combined with this one must be CpuMasks of its width (a narrower one would be read past its end). */
  private sameWidth(op: string, a: CpuMask, b: CpuMask = a): void {
    if (a?.nrCpuIds !== this.nrCpuIds || b?.nrCpuIds !== this.nrCpuIds) {
      const bad = a?.nrCpuIds !== this.nrCpuIds ? a : b;
      throw new InvalidArgumentError(
        `CpuMask.${op}: the masks must have the same width: this one has ${this.nrCpuIds} CPU ids, the other ${bad instanceof CpuMask ? `${bad.nrCpuIds}` : `is ${describeValue(bad)}`}`,
      );
    }
  }

  /** A new mask equal to this one. */
  clone(): CpuMask {
    return new CpuMask(this.nrCpuIds).copyFrom(this);
  }

  /** this = a & b; returns whether the result is non-empty (Linux `cpumask_and`). */
  and(a: CpuMask, b: CpuMask): boolean {
    this.sameWidth("and", a, b);
    let any = 0;
    const w = this.words,
      aw = a.words,
      bw = b.words;
    for (let i = 0; i < w.length; i++) any |= w[i] = aw[i] & bw[i];
    return any !== 0;
  }

  /** this = a | b. */
  or(a: CpuMask, b: CpuMask): this {
    this.sameWidth("or", a, b);
    const w = this.words,
      aw = a.words,
      bw = b.words;
    for (let i = 0; i < w.length; i++) w[i] = aw[i] | bw[i];
    return this;
  }

  /** this = a & ~b; returns whether the result is non-empty. */
  andNot(a: CpuMask, b: CpuMask): boolean {
    this.sameWidth("andNot", a, b);
    let any = 0;
    const w = this.words,
      aw = a.words,
      bw = b.words;
    for (let i = 0; i < w.length; i++) any |= w[i] = aw[i] & ~bw[i];
    return any !== 0;
  }

  /** Do the two masks share a set bit? */
  intersects(other: CpuMask): boolean {
    this.sameWidth("intersects", other);
    const w = this.words,
      ow = other.words;
    for (let i = 0; i < w.length; i++) if ((w[i] & ow[i]) !== 0) return true;
    return false;
  }

  /** Is every bit of this mask also set in `other`? */
  isSubsetOf(other: CpuMask): boolean {
    this.sameWidth("isSubsetOf", other);
    const w = this.words,
      ow = other.words;
    for (let i = 0; i < w.length; i++) if ((w[i] & ~ow[i]) !== 0) return false;
    return true;
  }

  /** Same bits? */
  equals(other: CpuMask): boolean {
    const w = this.words,
      ow = other.words;
    if (w.length !== ow.length) return false;
    for (let i = 0; i < w.length; i++) if (w[i] !== ow[i]) return false;
    return true;
  }

  /** No bit set? */
  isEmpty(): boolean {
    const w = this.words;
    for (let i = 0; i < w.length; i++) if (w[i] !== 0) return false;
    return true;
  }

  /** Number of set bits (Linux `cpumask_weight`). */
  weight(): number {
    let n = 0;
    const w = this.words;
    for (let i = 0; i < w.length; i++) {
      let v = w[i];
      v = v - ((v >>> 1) & 0x55555555);
      v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
      n += (((v + (v >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
    }
    return n;
  }

  /** Lowest set CPU, or `nrCpuIds` when empty (Linux `cpumask_first`). */
  first(): number {
    return this.next(-1);
  }

  /** Lowest set CPU greater than `cpu`, or `nrCpuIds` when none (Linux `cpumask_next`). */
  next(cpu: number): number {
    const start = cpu + 1;
    if (start >= this.nrCpuIds) return this.nrCpuIds;
    const w = this.words;
    let i = start >>> 5;
    let v = w[i] & (0xffffffff << (start & 31));
    for (;;) {
      if (v !== 0) {
        const bit = 31 - Math.clz32(v & -v);
        const c = (i << 5) + bit;
        return c < this.nrCpuIds ? c : this.nrCpuIds;
      }
      if (++i >= w.length) return this.nrCpuIds;
      v = w[i];
    }
  }

  /** Iterate set CPUs in ascending order (allocates an iterator: not for hot paths, use first/next). */
  *[Symbol.iterator](): IterableIterator<number> {
    for (let c = this.first(); c < this.nrCpuIds; c = this.next(c)) yield c;
  }

  /** The set CPUs as an array. */
  toArray(): number[] {
    return [...this];
  }

  /** Linux cpulist format, e.g. `1-3,5`; empty string when empty. */
  toString(): string {
    const parts: string[] = [];
    let c = this.first();
    while (c < this.nrCpuIds) {
      let end = c;
      while (end + 1 < this.nrCpuIds && this.test(end + 1)) end++;
      parts.push(end === c ? `${c}` : `${c}-${end}`);
      c = this.next(end);
    }
    return parts.join(",");
  }
}
