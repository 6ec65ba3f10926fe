/**
 * The machine's pending-event queue, ordered by (time, seq). Events live in a pool of
 * preallocated parallel typed arrays and are referred to by slot id. A binary min-heap holds
 * *chains*: a push at the same time as the push before it joins that push's chain (a FIFO, so
 * seq order) instead of the heap. Popping a chain's head hands its heap slot to the next event of
 * the chain, which is still the earliest, so no sifting. Many CPUs acting in lockstep — a multicast
 * IPI landing everywhere at once, then thousands of handlers with the same costs — keep thousands
 * of events pending in a few hundred chains, so push and pop stay cheap; with distinct times every
 * chain is one event and this is a plain binary heap. Nothing is allocated per event once the
 * pool has grown to the run's high-water mark.
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
  /** Per event: next and previous event of its chain (-1 at the ends); a chain head's heap position. */
  private next = new Int32Array(0);
  private prev = new Int32Array(0);
  private pos = new Int32Array(0);
  /** Binary min-heap of chain heads by (time, seq). */
  private heap = new Int32Array(0);
  /** The (time, seq) of the head at each heap position: sifting compares keys side by side. */
  private heapTime = new Float64Array(0);
  private heapSeq = new Float64Array(0);
  private nh = 0;
  private free: number[] = [];
  private used = 0;
  private n = 0;
  private seqCounter = 0;
  /** The last event pushed, while it is still pending: a push at its time joins its chain. */
  private openTail = -1;
  /** Every pending event in position order (see idAt), rebuilt after a change. */
  private flat = new Int32Array(0);
  private flatValid = false;

  constructor(initialCapacity = 64) {
    this.grow(initialCapacity);
  }

  private grow(newCap: number): void {
    const copyF = (a: Float64Array) => {
      const b = new Float64Array(newCap);
      b.set(a);
      return b;
    };
    const copyI = (a: Int32Array) => {
      const b = new Int32Array(newCap);
      b.set(a);
      return b;
    };
    this.times = copyF(this.times);
    this.seqs = copyF(this.seqs);
    const k = new Uint8Array(newCap);
    k.set(this.kinds);
    this.kinds = k;
    this.cpus = copyI(this.cpus);
    this.args = copyI(this.args);
    this.next = copyI(this.next);
    this.prev = copyI(this.prev);
    this.pos = copyI(this.pos);
    this.heap = copyI(this.heap);
    this.heapTime = copyF(this.heapTime);
    this.heapSeq = copyF(this.heapSeq);
    this.cap = newCap;
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
    const tail = this.openTail;
    if (tail !== -1 && this.times[tail] === time) {
      this.next[tail] = id;
      this.prev[id] = tail;
    } else {
      this.prev[id] = -1;
      this.siftUp(this.nh++, id);
    }
    this.openTail = id;
    this.n++;
    this.flatValid = false;
    return id;
  }

  /** Slot id of the earliest event, or -1. */
  peek(): number {
    return this.n > 0 ? this.heap[0] : -1;
  }

  /** Remove and return the earliest event's slot id, or -1. Call `release` after reading it. */
  pop(): number {
    if (this.n === 0) return -1;
    const id = this.heap[0];
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
    for (let h = 0; h < this.nh; h++)
      for (let id = this.heap[h]; id !== -1; id = this.next[id]) this.flat[k++] = id;
    this.flatValid = true;
  }

  private remove(id: number): void {
    const p = this.prev[id],
      q = this.next[id];
    if (id === this.openTail) this.openTail = -1;
    if (p !== -1) {
      // Inside a chain: unlink.
      this.next[p] = q;
      if (q !== -1) this.prev[q] = p;
    } else if (q !== -1) {
      // A chain head with a successor: the successor takes its heap slot. No other pending
      // event lies between them in (time, seq): one pushed in between at the same time would
      // have joined the chain first, and the chain could not have been joined again after it.
      this.prev[q] = -1;
      const i = this.pos[id];
      this.heap[i] = q;
      this.pos[q] = i;
      this.heapSeq[i] = this.seqs[q];
    } else {
      // A lone head: the heap's last entry fills its slot.
      const i = this.pos[id];
      const last = this.heap[--this.nh];
      if (i < this.nh) this.siftUp(this.siftDown(i, last), last);
    }
    this.n--;
    this.flatValid = false;
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
  time(id: number): number {
    return this.times[id];
  }
  /** Push order: breaks ties between events at the same time. */
  seq(id: number): number {
    return this.seqs[id];
  }
  /** EV_* kind. */
  kind(id: number): number {
    return this.kinds[id];
  }
  /** CPU the event concerns (-1 for machine callbacks). */
  cpu(id: number): number {
    return this.cpus[id];
  }
  /** Kind-specific argument (the line of an IRQ raise, a callback slot). */
  arg(id: number): number {
    return this.args[id];
  }

  /** Put chain head `id` at hole i, moving it up past later parents; returns its position. */
  private siftUp(i: number, id: number): number {
    const h = this.heap,
      pos = this.pos,
      ht = this.heapTime,
      hs = this.heapSeq;
    const t = this.times[id],
      s = this.seqs[id];
    while (i > 0) {
      const p = (i - 1) >> 1;
      const tp = ht[p];
      // Stop unless (t, s) comes before the parent's key.
      if (!(t < tp || (t === tp && s < hs[p]))) break;
      const q = h[p];
      h[i] = q;
      pos[q] = i;
      ht[i] = tp;
      hs[i] = hs[p];
      i = p;
    }
    h[i] = id;
    pos[id] = i;
    ht[i] = t;
    hs[i] = s;
    return i;
  }

  /** Put chain head `id` at hole i, moving it down past earlier children; returns its position. */
  private siftDown(i: number, id: number): number {
    const h = this.heap,
      pos = this.pos,
      ht = this.heapTime,
      hs = this.heapSeq;
    const n = this.nh;
    const t = this.times[id],
      s = this.seqs[id];
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      let tc = ht[c];
      if (c + 1 < n) {
        const tr = ht[c + 1];
        if (tr < tc || (tr === tc && hs[c + 1] < hs[c])) {
          c++;
          tc = tr;
        }
      }
      // Stop unless the smaller child comes before (t, s).
      if (!(tc < t || (tc === t && hs[c] < s))) break;
      const q = h[c];
      h[i] = q;
      pos[q] = i;
      ht[i] = tc;
      hs[i] = hs[c];
      i = c;
    }
    h[i] = id;
    pos[id] = i;
    ht[i] = t;
    hs[i] = s;
    return i;
  }
}
