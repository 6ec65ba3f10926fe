/**
 * The machine's pending-event queue, ordered by (time, seq). Events live in a pool of
 * preallocated records and are referred to by slot id. A binary min-heap holds *chains*: a push
 * at the same time as the push before it joins that push's chain (a FIFO, so seq order) instead
 * of the heap. Popping a chain's head hands its heap slot to the next event of the chain, which is
 * still the earliest, so no sifting. Many CPUs acting in lockstep — a multicast IPI landing
 * everywhere at once, then thousands of handlers with the same costs — keep thousands of events
 * pending in a few hundred chains, so push and pop stay cheap; with distinct times every chain is
 * one event and this is a plain binary heap. Nothing is allocated per event once the pool has
 * grown to the run's high-water mark.
 *
 * Memory layout (for 8192-CPU machines, where the CPUs' own state keeps the caches full): each
 * heap position holds its chain head's (time, seq) key next to the head's id, so a sift compares
 * adjacent entries instead of following ids into the pool; an event's fields are one record
 * (time, seq, kind, cpu, arg, next: 32 bytes), so dispatching an event touches one record.
 */

/** Event kinds. A cancelled event keeps its slot until popped and is then skipped. */
export const EV_CANCELLED = 0;
/** A CPU resumes its code (arg unused). */
export const EV_CPU_RESUME = 1;
/** An interrupt line is raised at a CPU (arg = line, flow = trace flow id). */
export const EV_IRQ_RAISE = 2;
/** A machine callback scheduled by a backend or the kernel (arg = callback slot). */
export const EV_CALLBACK = 3;
/** A CSD lock-wait watchdog deadline for a CPU: not progress, only a timer. */
export const EV_WATCHDOG = 4;

/** Bytes of an event record; doubles at f64[4 * id + 0..1], ints at i32[8 * id + 4..7]. */
const RECORD_BYTES = 32;
/** Int32 offsets of a record's fields (after the two doubles). */
const R_KIND = 4;
const R_CPU = 5;
const R_ARG = 6;
/** Next event of the chain, -1 at its end. */
const R_NEXT = 7;

/**
 * The pending-event queue (see the file comment): push/pop/removeAt by slot id, ordered by
 * (time, seq); cancelled events stay until popped.
 */
export class EventHeap {
  private cap = 0;
  /** Event records: f64 view (time, seq) and i32 view (kind, cpu, arg, next) of one buffer. */
  private f64 = new Float64Array(0);
  private i32 = new Int32Array(0);
  /** Binary min-heap of chain heads: position i holds key (time, seq) at keys[2i], keys[2i + 1] and id heads[i]. */
  private keys = new Float64Array(0);
  private heads = new Int32Array(0);
  private nh = 0;
  /** Slots holding an event not yet released (pending, or popped and being read). */
  private occupied = new Uint8Array(0);
  private inUse = 0;
  /** Where the next slot is looked for: slots are handed out in ring order, not last-freed first. */
  private cursor = 0;
  private n = 0;
  private seqCounter = 0;
  /** The last event pushed, while it is still pending: a push at its time joins its chain. */
  private openTail = -1;
  private openTailTime = 0;
  /**
   * Every pending event in position order (see idAt), rebuilt after a change: its id, the heap
   * position of its chain, and its predecessor in the chain (-1 for a head).
   */
  private flat = new Int32Array(0);
  private flatPos = new Int32Array(0);
  private flatPrev = new Int32Array(0);
  private flatValid = false;

  constructor(initialCapacity = 64) {
    this.grow(Math.max(2, initialCapacity));
  }

  private grow(newCap: number): void {
    const buf = new ArrayBuffer(newCap * RECORD_BYTES);
    const f64 = new Float64Array(buf);
    f64.set(this.f64);
    this.f64 = f64;
    this.i32 = new Int32Array(buf);
    const keys = new Float64Array(newCap * 2);
    keys.set(this.keys);
    this.keys = keys;
    const heads = new Int32Array(newCap);
    heads.set(this.heads);
    this.heads = heads;
    const occupied = new Uint8Array(newCap);
    occupied.set(this.occupied);
    this.occupied = occupied;
    this.cursor = this.cap;
    this.cap = newCap;
  }

  /** Number of events in the heap (cancelled ones included until popped). */
  get size(): number {
    return this.n;
  }

  /** Schedule an event; returns its slot id. Ties in time fire in push order. */
  push(time: number, kind: number, cpu: number, arg: number): number {
    // Slots go round the pool in order, skipping occupied ones; the pool stays at most half
    // full, so the search is short. Events pushed one after the other (a chain, a lockstep phase)
    // get neighbouring records, and are popped in that order, memory order.
    if (2 * (this.inUse + 1) > this.cap) this.grow(this.cap * 2);
    const occupied = this.occupied;
    let id = this.cursor;
    while (occupied[id] !== 0) id = id + 1 === this.cap ? 0 : id + 1;
    occupied[id] = 1;
    this.inUse++;
    this.cursor = id + 1 === this.cap ? 0 : id + 1;
    const seq = this.seqCounter++;
    const f = id << 2;
    const r = id << 3;
    this.f64[f] = time;
    this.f64[f + 1] = seq;
    const i32 = this.i32;
    i32[r + R_KIND] = kind;
    i32[r + R_CPU] = cpu;
    i32[r + R_ARG] = arg;
    i32[r + R_NEXT] = -1;
    const tail = this.openTail;
    if (tail !== -1 && this.openTailTime === time) i32[(tail << 3) + R_NEXT] = id;
    else this.siftUp(this.nh++, id, time, seq);
    this.openTail = id;
    this.openTailTime = time;
    this.n++;
    this.flatValid = false;
    return id;
  }

  /**
   * The next sequence number, for an event handled at once instead of queued (a CPU's raise of
   * its own line with no delay): it gets its place in the (time, seq) order, and every queued
   * event keeps its own.
   */
  takeSeq(): number {
    return this.seqCounter++;
  }

  /** Slot id of the earliest event, or -1. */
  peek(): number {
    return this.n > 0 ? this.heads[0] : -1;
  }

  /** Time of the earliest event (as `time(peek())`), or +Infinity when there is none. */
  peekTime(): number {
    return this.n > 0 ? this.keys[0] : Number.POSITIVE_INFINITY;
  }

  /** Remove and return the earliest event's slot id, or -1. Call `release` after reading it. */
  pop(): number {
    if (this.n === 0) return -1;
    const id = this.heads[0];
    this.removeHead(id, 0);
    return id;
  }

  /**
   * Slot id of the event at position `i` in [0, size): 0 is the earliest, the others follow in
   * an order fixed until the queue changes (search choosers sort them themselves).
   */
  idAt(i: number): number {
    if (!this.flatValid) this.rebuildFlat();
    return this.flat[i];
  }

  /** Remove the event at position `i` (see idAt) and return its slot id (used by search choosers). */
  removeAt(i: number): number {
    if (!this.flatValid) this.rebuildFlat();
    const id = this.flat[i];
    const p = this.flatPrev[i];
    if (p === -1) this.removeHead(id, this.flatPos[i]);
    else {
      // Inside a chain: unlink.
      if (id === this.openTail) this.openTail = -1;
      this.i32[(p << 3) + R_NEXT] = this.i32[(id << 3) + R_NEXT];
      this.n--;
      this.flatValid = false;
    }
    return id;
  }

  private rebuildFlat(): void {
    if (this.flat.length < this.n) {
      const len = Math.max(this.n, this.flat.length * 2);
      this.flat = new Int32Array(len);
      this.flatPos = new Int32Array(len);
      this.flatPrev = new Int32Array(len);
    }
    const i32 = this.i32;
    let k = 0;
    for (let h = 0; h < this.nh; h++) {
      let prev = -1;
      for (let id = this.heads[h]; id !== -1; id = i32[(id << 3) + R_NEXT]) {
        this.flat[k] = id;
        this.flatPos[k] = h;
        this.flatPrev[k++] = prev;
        prev = id;
      }
    }
    this.flatValid = true;
  }

  /** Remove chain head `id`, at heap position `i`. */
  private removeHead(id: number, i: number): void {
    if (id === this.openTail) this.openTail = -1;
    const q = this.i32[(id << 3) + R_NEXT];
    if (q !== -1) {
      // A chain head with a successor: the successor takes its heap slot. No other pending
      // event lies between them in (time, seq): one pushed in between at the same time would
      // have joined the chain first, and the chain could not have been joined again after it.
      this.heads[i] = q;
      this.keys[2 * i + 1] = this.f64[(q << 2) + 1];
    } else {
      // A lone head: the heap's last entry fills its slot.
      const last = --this.nh;
      if (i < last) {
        const keys = this.keys;
        const lid = this.heads[last];
        const lt = keys[2 * last];
        const ls = keys[2 * last + 1];
        this.siftUp(this.siftDown(i, lid, lt, ls), lid, lt, ls);
      }
    }
    this.n--;
    this.flatValid = false;
  }

  /** Give a popped slot back to the pool. */
  release(id: number): void {
    this.occupied[id] = 0;
    this.inUse--;
  }

  /** Mark a scheduled event as cancelled; it is skipped when popped. */
  cancel(id: number): void {
    this.i32[(id << 3) + R_KIND] = EV_CANCELLED;
  }

  /** Virtual time (ns) the event fires at. */
  time(id: number): number {
    return this.f64[id << 2];
  }
  /** Push order: breaks ties between events at the same time. */
  seq(id: number): number {
    return this.f64[(id << 2) + 1];
  }
  /** EV_* kind. */
  kind(id: number): number {
    return this.i32[(id << 3) + R_KIND];
  }
  /** CPU the event concerns (-1 for machine callbacks). */
  cpu(id: number): number {
    return this.i32[(id << 3) + R_CPU];
  }
  /** Kind-specific argument (the line of an IRQ raise, a callback slot). */
  arg(id: number): number {
    return this.i32[(id << 3) + R_ARG];
  }

  /** Put chain head `id` (key t, s) at hole i, moving it up past later parents; returns its position. */
  private siftUp(i: number, id: number, t: number, s: number): number {
    const keys = this.keys,
      heads = this.heads;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const pt = keys[2 * p];
      // Stop unless (t, s) comes before the parent's key.
      if (!(t < pt || (t === pt && s < keys[2 * p + 1]))) break;
      keys[2 * i] = pt;
      keys[2 * i + 1] = keys[2 * p + 1];
      heads[i] = heads[p];
      i = p;
    }
    keys[2 * i] = t;
    keys[2 * i + 1] = s;
    heads[i] = id;
    return i;
  }

  /** Put chain head `id` (key t, s) at hole i, moving it down past earlier children; returns its position. */
  private siftDown(i: number, id: number, t: number, s: number): number {
    const keys = this.keys,
      heads = this.heads;
    const n = this.nh;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      let ct = keys[2 * c],
        cs = keys[2 * c + 1];
      if (c + 1 < n) {
        const rt = keys[2 * c + 2],
          rs = keys[2 * c + 3];
        if (rt < ct || (rt === ct && rs < cs)) {
          c++;
          ct = rt;
          cs = rs;
        }
      }
      if (!(ct < t || (ct === t && cs < s))) break;
      keys[2 * i] = ct;
      keys[2 * i + 1] = cs;
      heads[i] = heads[c];
      i = c;
    }
    keys[2 * i] = t;
    keys[2 * i + 1] = s;
    heads[i] = id;
    return i;
  }
}
