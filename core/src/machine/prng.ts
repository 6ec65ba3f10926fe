/**
 * A small seeded PRNG (sfc32 seeded through splitmix32). Deterministic across platforms:
 * the same seed gives the same sequence. Every random choice in smpcall comes from one of these,
 * derived from the machine seed.
 */
export class Prng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  /** @param seed any 32-bit integer; the machine records it so a run can be repeated. */
  constructor(readonly seed: number) {
    let s = seed >>> 0;
    const next = (): number => {
      s = (s + 0x9e3779b9) | 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = next();
    this.b = next();
    this.c = next();
    this.d = next();
    for (let i = 0; i < 12; i++) this.nextU32();
  }

  /** Turn any seed text or number into a 32-bit seed (numbers are used as they are). */
  static seedFrom(value: string | number): number {
    if (typeof value === "number") return value >>> 0;
    if (/^\d+$/.test(value)) return Number(value) >>> 0;
    let h = 2166136261;
    for (let i = 0; i < value.length; i++) h = Math.imul(h ^ value.charCodeAt(i), 16777619);
    return h >>> 0;
  }

  /** A derived, independent stream: same parent seed and label give the same stream. */
  fork(label: string): Prng {
    return new Prng((this.seed ^ Prng.seedFrom(label)) >>> 0);
  }

  /** Next uniformly distributed 32-bit unsigned integer. */
  nextU32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform float in [0, 1). */
  next(): number {
    return this.nextU32() / 4294967296;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return p > 0 && this.next() < p;
  }
}
