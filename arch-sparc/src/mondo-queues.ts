/**
 * Byte offsets in a CPU's block: `cpu_mondo_counter` (float64), queue head, occupied entries,
 * entries reserved by a hypercall still running (uint16 each).
 */
const COUNTER_AT = 0;
const HEAD_AT = 8;
const QUEUED_AT = 10;
const RESERVED_AT = 12;
/** Where the ring of queue entries starts in the block. */
const RING_AT = 14;

/**
 * Every CPU's cpu-mondo queue and the per-CPU words a mondo trap reads and writes: one block per
 * CPU holds `cpu_mondo_counter` (mondos taken), the queue's head and occupied entries, then the
 * ring of queued xcall numbers (sun4u: the incoming dispatch register, depth 1), and the slots
 * a sun4v hypercall has claimed but not yet written (its entries appear when it ends); the pending
 * softint bits (SET_SOFTINT / CLEAR_SOFTINT, bit = softint line) are a byte per CPU of their own.
 *
 * Why: on a big machine the targets of a cross-call take their traps in random order, thousands
 * of other CPUs' events apart, so each per-CPU array a trap touches is a cache miss of its own
 * (four arrays and the ring's line before). Blocks start 16-byte aligned and the words a trap
 * needs are their first 16 bytes (with the ring's first two entries), which never straddle a
 * 64-byte line. The head goes back to 0 whenever the queue empties (which slot an empty ring
 * fills next cannot be observed), so the entries in use are the ones right after the words. The
 * softint bits are read again by the softint handler, a step later: at one byte per CPU (8 KB
 * at 8192 CPUs) they stay in cache, where the block's line would be another miss.
 */
export class MondoQueues {
  /** Entries per queue. */
  readonly depth: number;
  /** Bytes per CPU block (a multiple of 16). */
  private readonly stride: number;
  private readonly bytes: Uint8Array;
  private readonly halves: Uint16Array;
  private readonly doubles: Float64Array;
  /** Per CPU: pending softint bits. */
  private readonly softints: Uint8Array;

  constructor(nrCpus: number, depth: number) {
    this.depth = depth;
    this.stride = Math.ceil((RING_AT + depth) / 16) * 16;
    const buffer = new ArrayBuffer(nrCpus * this.stride);
    this.bytes = new Uint8Array(buffer);
    this.halves = new Uint16Array(buffer);
    this.doubles = new Float64Array(buffer);
    this.softints = new Uint8Array(nrCpus);
  }

  /** Occupied entries of `cpu`'s queue. */
  queued(cpu: number): number {
    return this.halves[(cpu * this.stride + QUEUED_AT) >> 1];
  }

  /** Is `cpu`'s queue full (slots claimed by a running hypercall included)? */
  full(cpu: number): boolean {
    const at = (cpu * this.stride) >> 1;
    const h = this.halves;
    return h[at + (QUEUED_AT >> 1)] + h[at + (RESERVED_AT >> 1)] >= this.depth;
  }

  /** Slots of `cpu`'s queue claimed (`reserve`) and not yet written. */
  reserved(cpu: number): number {
    return this.halves[(cpu * this.stride + RESERVED_AT) >> 1];
  }

  /** Claim a slot of `cpu`'s (not full) queue for an entry written later (`fill`). */
  reserve(cpu: number): void {
    this.halves[(cpu * this.stride + RESERVED_AT) >> 1]++;
  }

  /** Write `xcall` into a slot claimed with `reserve`: it is queued from now on. */
  fill(cpu: number, xcall: number): void {
    this.halves[(cpu * this.stride + RESERVED_AT) >> 1]--;
    this.push(cpu, xcall);
  }

  /** Mondos `cpu` has taken (`cpu_mondo_counter`). */
  counter(cpu: number): number {
    return this.doubles[(cpu * this.stride + COUNTER_AT) >> 3];
  }

  /** Append `xcall` to `cpu`'s queue (the caller checked that it is not full). */
  push(cpu: number, xcall: number): void {
    const at = cpu * this.stride;
    const h = this.halves;
    const queued = h[(at + QUEUED_AT) >> 1];
    let slot = h[(at + HEAD_AT) >> 1] + queued;
    if (slot >= this.depth) slot -= this.depth;
    this.bytes[at + RING_AT + slot] = xcall;
    h[(at + QUEUED_AT) >> 1] = queued + 1;
  }

  /**
   * The mondo trap's acknowledgement: take the oldest entry of `cpu`'s (non-empty) queue, freeing
   * its slot, and count the mondo. Returns the entry's xcall number.
   */
  take(cpu: number): number {
    const at = cpu * this.stride;
    const h = this.halves;
    this.doubles[(at + COUNTER_AT) >> 3]++;
    const head = h[(at + HEAD_AT) >> 1];
    const xcall = this.bytes[at + RING_AT + head];
    const queued = h[(at + QUEUED_AT) >> 1] - 1;
    h[(at + QUEUED_AT) >> 1] = queued;
    h[(at + HEAD_AT) >> 1] = queued === 0 || head + 1 === this.depth ? 0 : head + 1;
    return xcall;
  }

  /** Set softint `line` of `cpu`; returns false when it was already pending (the two coalesce). */
  setSoftint(cpu: number, line: number): boolean {
    const bits = this.softints[cpu];
    const bit = 1 << line;
    if ((bits & bit) !== 0) return false;
    this.softints[cpu] = bits | bit;
    return true;
  }

  /** Clear softint `line` of `cpu` (CLEAR_SOFTINT, as its handler starts). */
  clearSoftint(cpu: number, line: number): void {
    this.softints[cpu] &= ~(1 << line);
  }
}
