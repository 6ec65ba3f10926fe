/**
 * The machine's pending-event queue, ordered by (time, seq). Events live in a pool of
 * preallocated parallel typed arrays and are referred to by slot id. Consecutive pushes at the
 * same virtual time share a bucket (a FIFO: push order is seq order), and a binary min-heap orders
 * the buckets by (time, first seq). Many CPUs acting in lockstep — a multicast IPI landing
 * everywhere at once, then thousands of handlers with the same costs — keep thousands of events
 * pending in a few hundred buckets, so push and pop stay cheap. Nothing is allocated per event
 * once the pools have grown to the run's high-water mark.
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

/**
 * The pending-event queue (see the file comment): push/pop/removeAt by slot id, ordered by
 * (time, seq); cancelled events stay until popped.
 */
export class EventHeap {
  private cap = 0;
  private times = new Float64Array(0);
  private seqs = new Float64Array(0);
  private kinds = new Uint8Array(0);
  private cpus = new Int32Array(0);
  private args = new Int32Array(0);
  /** Per event: the next/previous event of its bucket (-1 at the ends) and its bucket. */
  private next = new Int32Array(0);
  private prev = new Int32Array(0);
  private bucketOf = new Int32Array(0);
  private free: number[] = [];
  private used = 0;
  private n = 0;
  private seqCounter = 0;
  // Buckets: runs of consecutive pushes at one time. Only the newest bucket is open for appends,
  // so a bucket's events all precede, in seq, those of any later bucket at the same time.
  private bCap = 0;
  private bTime = new Float64Array(0);
  private bSeq = new Float64Array(0);
  private bHead = new Int32Array(0);
  private bTail = new Int32Array(0);
  /** Position of each bucket in `heap`. */
  private bPos = new Int32Array(0);
  private bFree: number[] = [];
  private bUsed = 0;
  /** The bucket the last push went to (-1: none, or it has emptied). */
  private open = -1;
  /** Binary min-heap of bucket ids by (time, first seq). */
  private heap = new Int32Array(0);
  private nb = 0;
  /** Every pending event in position order (see idAt), rebuilt after a change. */
  private flat = new Int32Array(0);
  private flatValid = false;

  constructor(initialCapacity = 64) {
    this.grow(initialCapacity);
    this.growBuckets(16);
  }

  private grow(newCap: number): void {
    const copyF = (a: Float64Array) => { const b = new Float64Array(newCap); b.set(a); return b; };
    const copyI = (a: Int32Array) => { const b = new Int32Array(newCap); b.set(a); return b; };
    this.times = copyF(this.times);
    this.seqs = copyF(this.seqs);
    const k = new Uint8Array(newCap); k.set(this.kinds); this.kinds = k;
    this.cpus = copyI(this.cpus);
    this.args = copyI(this.args);
    this.next = copyI(this.next);
    this.prev = copyI(this.prev);
    this.bucketOf = copyI(this.bucketOf);
    this.cap = newCap;
  }

  private growBuckets(newCap: number): void {
    const copyI = (a: Int32Array) => { const b = new Int32Array(newCap); b.set(a); return b; };
    const t = new Float64Array(newCap); t.set(this.bTime); this.bTime = t;
    const q = new Float64Array(newCap); q.set(this.bSeq); this.bSeq = q;
    this.bHead = copyI(this.bHead);
    this.bTail = copyI(this.bTail);
    this.bPos = copyI(this.bPos);
    this.heap = copyI(this.heap);
    this.bCap = newCap;
  }

  /** Number of events in the heap (cancelled ones included until popped). */
  get size(): number {
    return this.n;
  }

  /** Schedule an event; returns its slot id. Ties in time fire in push order. */
  push(time: number, kind: number, cpu: number, arg: number): number {
    let id: number;
    if (this.free.length > 0) id = this.free.pop()!;
    else {
      if (this.used === this.cap) this.grow(this.cap * 2);
      id = this.used++;
    }
    this.times[id] = time;
    this.seqs[id] = this.seqCounter++;
    this.kinds[id] = kind;
    this.cpus[id] = cpu;
    this.args[id] = arg;
    this.next[id] = -1;
    let b = this.open;
    if (b === -1 || this.bTime[b] !== time) {
      b = this.newBucket(time, this.seqs[id]);
      this.bHead[b] = id;
      this.prev[id] = -1;
    } else {
      const tail = this.bTail[b];
      this.next[tail] = id;
      this.prev[id] = tail;
    }
    this.bTail[b] = id;
    this.bucketOf[id] = b;
    this.n++;
    this.flatValid = false;
    return id;
  }

  private newBucket(time: number, seq: number): number {
    let b: number;
    if (this.bFree.length > 0) b = this.bFree.pop()!;
    else {
      if (this.bUsed === this.bCap) this.growBuckets(this.bCap * 2);
      b = this.bUsed++;
    }
    this.bTime[b] = time;
    this.bSeq[b] = seq;
    this.open = b;
    this.heap[this.nb] = b;
    this.bPos[b] = this.nb;
    this.siftUp(this.nb++);
    return b;
  }

  /** Slot id of the earliest event, or -1. */
  peek(): number {
    return this.n > 0 ? this.bHead[this.heap[0]] : -1;
  }

  /** Remove and return the earliest event's slot id, or -1. Call `release` after reading it. */
  pop(): number {
    if (this.n === 0) return -1;
    const id = this.bHead[this.heap[0]];
    this.remove(id);
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
    const id = this.idAt(i);
    this.remove(id);
    return id;
  }

  private rebuildFlat(): void {
    if (this.flat.length < this.n) this.flat = new Int32Array(Math.max(this.n, this.flat.length * 2));
    let k = 0;
    for (let h = 0; h < this.nb; h++) for (let id = this.bHead[this.heap[h]]; id !== -1; id = this.next[id]) this.flat[k++] = id;
    this.flatValid = true;
  }

  private remove(id: number): void {
    const b = this.bucketOf[id];
    const p = this.prev[id], q = this.next[id];
    if (p === -1) this.bHead[b] = q;
    else this.next[p] = q;
    if (q === -1) this.bTail[b] = p;
    else this.prev[q] = p;
    if (this.bHead[b] === -1) this.removeBucket(b);
    this.n--;
    this.flatValid = false;
  }

  private removeBucket(b: number): void {
    if (this.open === b) this.open = -1;
    const i = this.bPos[b];
    const last = this.heap[--this.nb];
    if (i < this.nb) {
      this.heap[i] = last;
      this.bPos[last] = i;
      this.siftDown(i);
      this.siftUp(this.bPos[last]);
    }
    this.bFree.push(b);
  }

  /** Give a popped slot back to the pool. */
  release(id: number): void {
    this.free.push(id);
  }

  /** Mark a scheduled event as cancelled; it is skipped when popped. */
  cancel(id: number): void {
    this.kinds[id] = EV_CANCELLED;
  }

  /** Virtual time (ns) the event fires at. */
  time(id: number): number { return this.times[id]; }
  /** Push order: breaks ties between events at the same time. */
  seq(id: number): number { return this.seqs[id]; }
  /** EV_* kind. */
  kind(id: number): number { return this.kinds[id]; }
  /** CPU the event concerns (-1 for machine callbacks). */
  cpu(id: number): number { return this.cpus[id]; }
  /** Kind-specific argument (the line of an IRQ raise, a callback slot). */
  arg(id: number): number { return this.args[id]; }

  /** Bucket x before bucket y: earlier time, or the same time and pushed first. */
  private before(x: number, y: number): boolean {
    const tx = this.bTime[x], ty = this.bTime[y];
    return tx < ty || (tx === ty && this.bSeq[x] < this.bSeq[y]);
  }

  private siftUp(i: number): void {
    const h = this.heap, pos = this.bPos;
    const b = h[i];
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.before(b, h[p])) break;
      h[i] = h[p];
      pos[h[i]] = i;
      i = p;
    }
    h[i] = b;
    pos[b] = i;
  }

  private siftDown(i: number): void {
    const h = this.heap, pos = this.bPos;
    const n = this.nb;
    const b = h[i];
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      if (c + 1 < n && this.before(h[c + 1], h[c])) c++;
      if (!this.before(h[c], b)) break;
      h[i] = h[c];
      pos[h[i]] = i;
      i = c;
    }
    h[i] = b;
    pos[b] = i;
  }
}
