import type { CpuCode, Step } from "@smpcall/core";

/** States of a {@link DemuxFrame}: not stepped yet; fetch the word; handle its messages; finished. */
const DEMUX_FRESH = 0;
const DEMUX_FETCH = 1;
const DEMUX_MESSAGES = 2;
const DEMUX_FINISHED = 3;

/** Message bits of the per-CPU word (PPC_MSG_* 0..3). */
const MESSAGES = 4;

/** The result of a frame that has finished (the machine reads only `done`). */
const DEMUX_DONE: IteratorReturnResult<void> = { done: true, value: undefined };

/** What a {@link DemuxFrame} asks of the backend whose interrupt it handles. */
export interface DemuxHost {
  /** The interrupt's own work before the demux loop: count it, acknowledge its source. */
  acknowledge(cpu: number, line: number): void;
  /** smp_ipi_demux's fetch-and-clear of `cpu`'s message word; returns what was set. */
  fetchAndClear(cpu: number): number;
  /** Is `cpu`'s message word non-zero again (the loop takes another pass)? */
  wordSet(cpu: number): boolean;
  /** Handle message `msg` on `cpu`: the code to run to its end (the generic handler's flush), or null. */
  handleMessage(cpu: number, msg: number): CpuCode<void> | null;
  /** A finished frame, for reuse. */
  release(frame: DemuxFrame): void;
}

/**
 * The muxed IPI handler stepped by hand: acknowledge the source, then fetch-and-clear the
 * CPU's message word and handle every message set, in bit order, again while the word is
 * non-zero. The same steps at the same virtual times as the generator
 *
 *     acknowledge; do { all = fetchAndClear(); for msg of all: yield* handleMessage(msg) } while (wordSet())
 *
 * without a generator object per interrupt: on a big machine thousands of handlers are in
 * flight at once, and a generator each outlived young collections. Frames are reused through
 * the backend's free list; whoever steps one drops it once it is done, as the machine does.
 */
export class DemuxFrame implements CpuCode<void> {
  /** The CPU and line of the interrupt this frame handles (set when it is handed out). */
  cpu = 0;
  line = 0;
  private state = DEMUX_FINISHED;
  /** The word as fetched in this pass, and the next message bit to look at. */
  private all = 0;
  private msg = 0;
  private inner: CpuCode<void> | null = null;

  constructor(private readonly host: DemuxHost) {}

  /** Hand it out (again), for an interrupt of `line` on `cpu`, not started. */
  reset(cpu: number, line: number): this {
    this.cpu = cpu;
    this.line = line;
    this.state = DEMUX_FRESH;
    this.inner = null;
    return this;
  }

  /** The frame is its own iterator. */
  [Symbol.iterator](): this {
    return this;
  }

  /** One step: the acknowledgement and the demux loop up to the next step a message handler takes. */
  next(): IteratorResult<Step, void> {
    for (;;) {
      const inner = this.inner;
      if (inner !== null) {
        const r = inner.next();
        if (r.done !== true) return r;
        this.inner = null;
      }
      switch (this.state) {
        case DEMUX_FRESH:
          this.host.acknowledge(this.cpu, this.line);
          this.state = DEMUX_FETCH;
          continue;
        case DEMUX_FETCH:
          this.all = this.host.fetchAndClear(this.cpu);
          this.msg = 0;
          this.state = DEMUX_MESSAGES;
          continue;
        case DEMUX_MESSAGES: {
          if (this.msg === MESSAGES) {
            if (this.host.wordSet(this.cpu)) {
              this.state = DEMUX_FETCH;
              continue;
            }
            return this.finish();
          }
          const msg = this.msg++;
          if ((this.all & (1 << msg)) !== 0) this.inner = this.host.handleMessage(this.cpu, msg);
          continue;
        }
        default:
          return DEMUX_DONE;
      }
    }
  }

  /** Ends the frame (the machine unwinds a handler this way); not reused. */
  return(): IteratorReturnResult<void> {
    const inner = this.inner;
    this.inner = null;
    this.state = DEMUX_FINISHED;
    if (inner !== null) inner.return();
    return DEMUX_DONE;
  }

  /** Ends the frame and rethrows `e` (the generator protocol). */
  throw(e: unknown): never {
    this.inner = null;
    this.state = DEMUX_FINISHED;
    throw e;
  }

  /** Ends the frame, as `return`. */
  [Symbol.dispose](): void {
    this.return();
  }

  /** Done: back to the backend's free list, once. */
  private finish(): IteratorReturnResult<void> {
    this.state = DEMUX_FINISHED;
    this.host.release(this);
    return DEMUX_DONE;
  }
}
