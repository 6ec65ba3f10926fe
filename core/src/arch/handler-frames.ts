import type { CpuCode, Step } from "../machine/step";

/** States of a {@link SteppedFrame}: handed out, not stepped yet; stepping; finished. */
const FRAME_FRESH = 0;
const FRAME_RUNNING = 1;
const FRAME_FINISHED = 2;

/** The result of a frame that has finished (the machine reads only `done`). */
const FRAME_DONE: IteratorReturnResult<void> = { done: true, value: undefined };

/**
 * What a handler does when its frame takes its first step: the work before the generic handler
 * (an EOI, taking a queue entry, clearing a softint), then the generic handler's flush to run to its end,
 * or null when there is none.
 */
export type HandlerBegin = (cpu: number, line: number) => CpuCode<void> | null;

/**
 * An interrupt handler frame stepped by hand, reused from one interrupt to the next instead of
 * a generator per interrupt (on a big machine thousands of handlers are in flight at once, and a
 * generator each outlived young collections). Its first `next` runs {@link start} — the
 * handler's own work up to the first code it delegates to (the generic handler's flush) — and
 * steps that code; each time delegated code finishes, {@link more} gives the next, until it
 * gives null and the frame is done: the generator `*handler() { work; yield* code; more work;
 * yield* code; ... }` at the same virtual times. A finished frame calls {@link released} once
 * (back to its pool); one unwound by `return()` is not reused. Whoever steps a frame must drop it
 * once it is done, as the machine does.
 */
export abstract class SteppedFrame implements CpuCode<void> {
  /** The CPU and line of the interrupt this frame handles (set when it is handed out). */
  cpu = 0;
  line = 0;
  /** FRAME_FRESH, FRAME_RUNNING or FRAME_FINISHED. */
  private state = FRAME_FINISHED;
  private inner: CpuCode<void> | null = null;

  /** The handler's work at its first step; returns the first code to run to its end, or null. */
  protected abstract start(): CpuCode<void> | null;

  /** The handler's work after delegated code finished; returns the next code, or null: done. */
  protected abstract more(): CpuCode<void> | null;

  /** The frame finished: hand it back for reuse. */
  protected abstract released(): void;

  /** Hand it out (again), for an interrupt of `line` on `cpu`, not started. */
  reset(cpu: number, line: number): this {
    this.cpu = cpu;
    this.line = line;
    this.state = FRAME_FRESH;
    this.inner = null;
    return this;
  }

  /** The frame is its own iterator. */
  [Symbol.iterator](): this {
    return this;
  }

  /** One step: the handler's own work where it is due, then the delegated code's steps. */
  next(): IteratorResult<Step, void> {
    let inner = this.inner;
    if (this.state !== FRAME_RUNNING) {
      if (this.state === FRAME_FINISHED) return FRAME_DONE;
      this.state = FRAME_RUNNING;
      inner = this.inner = this.start();
    }
    for (;;) {
      if (inner === null) return this.finish();
      const r = inner.next();
      if (r.done !== true) return r;
      inner = this.inner = this.more();
    }
  }

  /** Ends the frame (the machine unwinds a handler this way); not reused. */
  return(): IteratorReturnResult<void> {
    const inner = this.inner;
    this.inner = null;
    this.state = FRAME_FINISHED;
    if (inner !== null) inner.return();
    return FRAME_DONE;
  }

  /** Ends the frame and rethrows `e` (the generator protocol). */
  throw(e: unknown): never {
    this.inner = null;
    this.state = FRAME_FINISHED;
    throw e;
  }

  /** Ends the frame, as `return`. */
  [Symbol.dispose](): void {
    this.return();
  }

  /** Done: released once (a finished frame stays finished until handed out again). */
  private finish(): IteratorReturnResult<void> {
    this.inner = null;
    this.state = FRAME_FINISHED;
    this.released();
    return FRAME_DONE;
  }
}

/**
 * One interrupt handler frame of a {@link HandlerFramePool}: its first `next` runs the handler's
 * own work (`begin`), later ones step the flush it returned. It behaves as the generator
 * `*handleInterrupt(cpu, line) { work; yield* flush; }` did, at the same virtual times.
 */
export class HandlerFrame extends SteppedFrame {
  constructor(private readonly pool: HandlerFramePool) {
    super();
  }

  /** The handler's own work; the flush it returns. */
  protected start(): CpuCode<void> | null {
    return this.pool.begin(this.cpu, this.line);
  }

  /** Nothing after the flush. */
  protected more(): null {
    return null;
  }

  /** Back to the pool. */
  protected released(): void {
    this.pool.release(this);
  }
}

/**
 * Handler frames for one backend, reused: a frame goes back to the pool when it finishes and the
 * next interrupt (on any CPU) takes the one freed last, still in cache. A big machine whose
 * targets take their interrupts in random order used to allocate a generator per interrupt that
 * stayed alive across thousands of other CPUs' events (copied by every young collection); the
 * pool holds as many frames as interrupts were ever in flight at once, and allocates no more.
 * A frame abandoned unfinished (its CPU stopped) is simply not returned. Whoever steps a frame
 * must drop it once it is done, as the machine does: a finished frame is soon another interrupt's.
 */
export class HandlerFramePool {
  private readonly free: HandlerFrame[] = [];

  /** @param begin the handler's own work, run at the frame's first step. */
  constructor(readonly begin: HandlerBegin) {}

  /** A frame for an interrupt of `line` taken on `cpu`, not started. */
  frame(cpu: number, line: number): CpuCode<void> {
    return (this.free.pop() ?? new HandlerFrame(this)).reset(cpu, line);
  }

  /** Frames waiting to be reused. */
  get idle(): number {
    return this.free.length;
  }

  /** A finished frame, for reuse. */
  release(f: HandlerFrame): void {
    this.free.push(f);
  }
}
