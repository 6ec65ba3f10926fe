import { UsageError } from "../errors";

/**
 * The 128-bit fingerprint of `s` (MurmurHash3, x86 128-bit variant, over the string's UTF-16
 * code units taken two to a 32-bit word) into `out[0..3]`. The dfs search stores states by
 * fingerprint instead of by key: two distinct states whose fingerprints are equal would be
 * taken as one (a "hash-compact" table, as SPIN's `-DHC`); see docs/explorer.md for the
 * probability. The low bit of `out[0]` is forced to 1 (a stored fingerprint is never 0 nor
 * the table's busy mark), so 127 bits count.
 */
export function fingerprint128(s: string, out: Int32Array): void {
  const len = s.length;
  const words = len >>> 1;
  let h1 = 0x9747b28c | 0,
    h2 = 0x9747b28c | 0,
    h3 = 0x9747b28c | 0,
    h4 = 0x9747b28c | 0;
  const c1 = 0x239b961b,
    c2 = 0xab0e9789 | 0,
    c3 = 0x38b34ae5,
    c4 = 0xa1e38b93 | 0;
  const blocks = words >>> 2;
  let p = 0;
  for (let b = 0; b < blocks; b++, p += 8) {
    let k1 = s.charCodeAt(p) | (s.charCodeAt(p + 1) << 16);
    let k2 = s.charCodeAt(p + 2) | (s.charCodeAt(p + 3) << 16);
    let k3 = s.charCodeAt(p + 4) | (s.charCodeAt(p + 5) << 16);
    let k4 = s.charCodeAt(p + 6) | (s.charCodeAt(p + 7) << 16);
    k1 = Math.imul(k1, c1);
    k1 = (k1 << 15) | (k1 >>> 17);
    k1 = Math.imul(k1, c2);
    h1 ^= k1;
    h1 = (h1 << 19) | (h1 >>> 13);
    h1 = (h1 + h2) | 0;
    h1 = (Math.imul(h1, 5) + 0x561ccd1b) | 0;
    k2 = Math.imul(k2, c2);
    k2 = (k2 << 16) | (k2 >>> 16);
    k2 = Math.imul(k2, c3);
    h2 ^= k2;
    h2 = (h2 << 17) | (h2 >>> 15);
    h2 = (h2 + h3) | 0;
    h2 = (Math.imul(h2, 5) + 0x0bcaa747) | 0;
    k3 = Math.imul(k3, c3);
    k3 = (k3 << 17) | (k3 >>> 15);
    k3 = Math.imul(k3, c4);
    h3 ^= k3;
    h3 = (h3 << 15) | (h3 >>> 17);
    h3 = (h3 + h4) | 0;
    h3 = (Math.imul(h3, 5) + 0x96cd1c35) | 0;
    k4 = Math.imul(k4, c4);
    k4 = (k4 << 18) | (k4 >>> 14);
    k4 = Math.imul(k4, c1);
    h4 ^= k4;
    h4 = (h4 << 13) | (h4 >>> 19);
    h4 = (h4 + h1) | 0;
    h4 = (Math.imul(h4, 5) + 0x32ac3b17) | 0;
  }
  // Tail: up to 7 code units, as up to 4 words (the last one maybe half).
  const rest = len - p;
  const w = (i: number) => (p + i < len ? s.charCodeAt(p + i) : 0);
  if (rest > 6) {
    let k4 = w(6);
    k4 = Math.imul(k4, c4);
    k4 = (k4 << 18) | (k4 >>> 14);
    h4 ^= Math.imul(k4, c1);
  }
  if (rest > 4) {
    let k3 = w(4) | (w(5) << 16);
    k3 = Math.imul(k3, c3);
    k3 = (k3 << 17) | (k3 >>> 15);
    h3 ^= Math.imul(k3, c4);
  }
  if (rest > 2) {
    let k2 = w(2) | (w(3) << 16);
    k2 = Math.imul(k2, c2);
    k2 = (k2 << 16) | (k2 >>> 16);
    h2 ^= Math.imul(k2, c3);
  }
  if (rest > 0) {
    let k1 = w(0) | (w(1) << 16);
    k1 = Math.imul(k1, c1);
    k1 = (k1 << 15) | (k1 >>> 17);
    h1 ^= Math.imul(k1, c2);
  }
  const bytes = len * 2;
  h1 ^= bytes;
  h2 ^= bytes;
  h3 ^= bytes;
  h4 ^= bytes;
  h1 = (h1 + h2 + h3 + h4) | 0;
  h2 = (h2 + h1) | 0;
  h3 = (h3 + h1) | 0;
  h4 = (h4 + h1) | 0;
  h1 = fmix32(h1);
  h2 = fmix32(h2);
  h3 = fmix32(h3);
  h4 = fmix32(h4);
  h1 = (h1 + h2 + h3 + h4) | 0;
  h2 = (h2 + h1) | 0;
  h3 = (h3 + h1) | 0;
  h4 = (h4 + h1) | 0;
  out[0] = h1 | 1;
  out[1] = h2;
  out[2] = h3;
  out[3] = h4;
}

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h;
}

/** An empty slot's first word. */
const EMPTY = 0;
/** A slot being filled by another thread (its first word; a fingerprint's is odd). */
const BUSY = 2;
/** Header words: [0] states stored, [1] log2 of the slots, [2] words per slot, [3] budget slots per state. */
const HEADER = 4;
/** Events fired on reaching a state that a budget word can hold (24 bits, one value spare). */
const MAX_STEPS = 0xffffff;
/** A shared table refuses new states above this fill (linear probing slows down near full). */
const SHARED_MAX_FILL = 0.75;

/**
 * The dfs search's explored states, as 128-bit fingerprints ({@link fingerprint128}) in an
 * open-addressing table (linear probing) of 32-bit words: per slot the fingerprint (4 words)
 * and, per "CPU last to run" (−1 for an unbounded search), one word: the low byte the
 * preemptions used on reaching the state that way, plus 1 (0: not reached that way), the upper
 * 24 bits the events fired by then (see {@link FingerprintTable.visit}). About 20-40 bytes a
 * state instead of a key string of a few hundred and its map entry.
 *
 * On an `ArrayBuffer` the table grows (doubling at half full). On a `SharedArrayBuffer` several
 * worker threads share it (`--workers N`): a new state claims its slot with
 * `Atomics.compareExchange`, writes its fingerprint and then publishes it, and the budget words
 * change by compare-and-swap; such a table cannot grow, and refuses new states above 3/4 full
 * with a {@link UsageError} that says how to make it larger.
 */
export class FingerprintTable {
  private t: Int32Array;
  private readonly shared: boolean;
  private readonly slotWords: number;
  private mask: number;

  /**
   * A table over `buffer` (made by {@link FingerprintTable.allocate}), or a new growable one for
   * `budgetSlots` ways to reach a state (CPUs + 1 under a preemption bound, else 1).
   */
  constructor(from: SharedArrayBuffer | ArrayBuffer | { budgetSlots: number; log2Slots?: number }) {
    const buffer =
      from instanceof ArrayBuffer || isShared(from)
        ? from
        : FingerprintTable.allocate(from.budgetSlots, from.log2Slots ?? 12, false);
    this.t = new Int32Array(buffer);
    this.shared = isShared(buffer);
    this.slotWords = this.t[2];
    this.mask = (1 << this.t[1]) - 1;
  }

  /** A zeroed buffer for a table of 2^`log2Slots` slots, each for `budgetSlots` ways to reach a state. */
  static allocate(budgetSlots: number, log2Slots: number, shared: boolean): ArrayBuffer | SharedArrayBuffer {
    if (!Number.isInteger(budgetSlots) || budgetSlots < 1 || budgetSlots > 256)
      throw new UsageError(`state table: ${budgetSlots} budget slots per state (expected 1-256)`);
    if (!Number.isInteger(log2Slots) || log2Slots < 4 || log2Slots > 28)
      throw new UsageError(`state table: 2^${log2Slots} slots (expected 2^4 to 2^28)`);
    const slotWords = 4 + budgetSlots;
    const bytes = (HEADER + slotWords * 2 ** log2Slots) * 4;
    const buffer = shared ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes);
    const t = new Int32Array(buffer);
    t[1] = log2Slots;
    t[2] = slotWords;
    t[3] = budgetSlots;
    return buffer;
  }

  /** The log2 of the slots a shared table needs for `states` states at most 3/4 full. */
  static log2SlotsFor(states: number): number {
    let log2 = 4;
    while (2 ** log2 * SHARED_MAX_FILL < states && log2 < 28) log2++;
    return log2;
  }

  /** The buffer the table lives in (to share it with workers). */
  get buffer(): ArrayBuffer | SharedArrayBuffer {
    return this.t.buffer;
  }

  /** Distinct states stored. */
  get size(): number {
    return this.shared ? Atomics.load(this.t, 0) : this.t[0];
  }

  /** Bytes the table takes. */
  get bytes(): number {
    return this.t.byteLength;
  }

  /**
   * True if the state of fingerprint `fp` was stored with budget slot `way` (the CPU last to
   * run + 1; 0 unbounded) at no more than `used` preemptions and no fewer than `steps` events
   * fired (a visit then had no more preemptions left and no more events left before the step
   * limit than this one: see docs/explorer.md, "the step limit"); otherwise stores this visit
   * (in place of the one stored that way) and returns false. A count of preemptions past 254 or
   * of events past 2^24 - 2 is not stored (the state is explored again: sound, only slower).
   */
  visit(fp: Int32Array, way: number, used: number, steps = 0): boolean {
    const t = this.t;
    if (way < 0 || way >= t[3])
      throw new UsageError(`state table: budget slot ${way} out of range (table made for ${t[3]})`);
    const h0 = fp[0],
      h1 = fp[1],
      h2 = fp[2],
      h3 = fp[3];
    const sw = this.slotWords;
    const budgetWord = 4 + way;
    const stored = used < 255 && steps < MAX_STEPS ? ((steps << 8) | (used + 1)) >>> 0 : 0;
    for (let i = h1 & this.mask; ; i = (i + 1) & this.mask) {
      const b = HEADER + i * sw;
      let w0 = this.shared ? Atomics.load(t, b) : t[b];
      if (w0 === EMPTY) {
        if (!this.shared) {
          t[b + 1] = h1;
          t[b + 2] = h2;
          t[b + 3] = h3;
          t[b + budgetWord] = stored | 0;
          t[b] = h0;
          if (++t[0] * 2 > this.mask + 1) this.grow();
          return false;
        }
        const prev = Atomics.compareExchange(t, b, EMPTY, BUSY);
        if (prev === EMPTY) {
          if ((Atomics.load(t, 0) + 1) / (this.mask + 1) > SHARED_MAX_FILL) {
            Atomics.store(t, b, EMPTY);
            throw new UsageError(
              `state table full: ${Atomics.load(t, 0)} states in 2^${t[1]} slots (${Math.round(this.bytes / 2 ** 20)} MB); give --workers a larger --max-states`,
            );
          }
          t[b + 1] = h1;
          t[b + 2] = h2;
          t[b + 3] = h3;
          t[b + budgetWord] = stored | 0;
          Atomics.add(t, 0, 1);
          Atomics.store(t, b, h0);
          return false;
        }
        w0 = prev;
      }
      while (w0 === BUSY) w0 = Atomics.load(t, b);
      if (w0 !== h0 || t[b + 1] !== h1 || t[b + 2] !== h2 || t[b + 3] !== h3) continue;
      const at = b + budgetWord;
      for (;;) {
        const cur = this.shared ? Atomics.load(t, at) : t[at];
        const before = cur & 255;
        if (before !== 0 && before - 1 <= used && cur >>> 8 >= steps) return true;
        if (stored === 0) return false;
        if (!this.shared) {
          t[at] = stored | 0;
          return false;
        }
        if (Atomics.compareExchange(t, at, cur, stored | 0) === cur) return false;
      }
    }
  }

  /** Double the slots (growable tables only) and put every stored state back. */
  private grow(): void {
    const old = this.t;
    const sw = this.slotWords;
    const log2 = old[1] + 1;
    if (log2 > 28)
      throw new UsageError(
        `state table: more than ${old[0]} states do not fit (2^28 slots); use a preemption bound or split the search (--shard)`,
      );
    const t = new Int32Array(FingerprintTable.allocate(old[3], log2, false));
    const mask = (1 << log2) - 1;
    for (let j = 0; j <= this.mask; j++) {
      const ob = HEADER + j * sw;
      if (old[ob] === EMPTY) continue;
      let i = old[ob + 1] & mask;
      while (t[HEADER + i * sw] !== EMPTY) i = (i + 1) & mask;
      const nb = HEADER + i * sw;
      for (let k = 0; k < sw; k++) t[nb + k] = old[ob + k];
    }
    t[0] = old[0];
    this.t = t;
    this.mask = mask;
  }
}

function isShared(x: unknown): x is SharedArrayBuffer {
  return typeof SharedArrayBuffer !== "undefined" && x instanceof SharedArrayBuffer;
}
