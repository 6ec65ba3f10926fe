/**
 * The machine's pending-event queue: an array-backed binary min-heap ordered by (time, seq).
 * Events live in a pool of preallocated parallel typed arrays and are referred to by slot id;
 * pushing and popping allocate nothing once the pool has grown to the run's high-water mark.
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
  private heap = new Int32Array(0);
  private free: number[] = [];
  private used = 0;
  private n = 0;
  private seqCounter = 0;

  constructor(initialCapacity = 64) {
    this.grow(initialCapacity);
  }

  private grow(newCap: number): void {
    const copyF = (a: Float64Array) => { const b = new Float64Array(newCap); b.set(a); return b; };
    this.times = copyF(this.times);
    this.seqs = copyF(this.seqs);
    const k = new Uint8Array(newCap); k.set(this.kinds); this.kinds = k;
    const c = new Int32Array(newCap); c.set(this.cpus); this.cpus = c;
    const a = new Int32Array(newCap); a.set(this.args); this.args = a;
    const h = new Int32Array(newCap); h.set(this.heap); this.heap = h;
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
    this.heap[this.n] = id;
    this.siftUp(this.n++);
    return id;
  }

  /** Slot id of the earliest event, or -1. */
  peek(): number {
    return this.n > 0 ? this.heap[0] : -1;
  }

  /** Remove and return the earliest event's slot id, or -1. Call `release` after reading it. */
  pop(): number {
    return this.n > 0 ? this.removeAt(0) : -1;
  }

  /** Slot id of the event at heap position `i` (0 = earliest; others in heap order). */
  idAt(i: number): number {
    return this.heap[i];
  }

  /** Remove the event at heap position `i` and return its slot id (used by search choosers). */
  removeAt(i: number): number {
    const id = this.heap[i];
    const last = this.heap[--this.n];
    if (i < this.n) {
      this.heap[i] = last;
      this.siftDown(i);
      this.siftUp(i);
    }
    return id;
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

  private less(x: number, y: number): boolean {
    const tx = this.times[x], ty = this.times[y];
    return tx < ty || (tx === ty && this.seqs[x] < this.seqs[y]);
  }

  private siftUp(i: number): void {
    const h = this.heap;
    const id = h[i];
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(id, h[p])) break;
      h[i] = h[p];
      i = p;
    }
    h[i] = id;
  }

  private siftDown(i: number): void {
    const h = this.heap;
    const n = this.n;
    const id = h[i];
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      if (c + 1 < n && this.less(h[c + 1], h[c])) c++;
      if (!this.less(h[c], id)) break;
      h[i] = h[c];
      i = c;
    }
    h[i] = id;
  }
}
