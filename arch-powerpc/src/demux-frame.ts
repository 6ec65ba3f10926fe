import { SteppedFrame, type CpuCode } from "@smpcall/core";

/** Message bits of the per-CPU word (PPC_MSG_* 0..3). */
const MESSAGES = 4;

/** What a {@link DemuxFrame} asks of the backend whose interrupt it handles. */
export interface DemuxHost {
  /** The interrupt's own work before the demux loop: count it, acknowledge its source. */
  acknowledge(cpu: number, line: number): void;
  /** smp_ipi_demux's fetch-and-clear of `cpu`'s message word; returns what was set. */
  fetchAndClear(cpu: number): number;
  /** Is `cpu`'s message word non-zero again (the loop takes another pass)? */
  wordSet(cpu: number): boolean;
  /** The demux loop found the word empty: the interrupt's EOI (the controller's, after the demux). */
  eoi(cpu: number, line: number): void;
  /** Handle message `msg` on `cpu`: the code to run to its end (the generic handler's flush), or null. */
  handleMessage(cpu: number, msg: number): CpuCode<void> | null;
  /** A finished frame, for reuse. */
  release(frame: DemuxFrame): void;
}

/**
 * The muxed IPI handler as a reused hand-stepped frame (see `SteppedFrame`): acknowledge the
 * source, then fetch-and-clear the CPU's message word and handle every message set, in bit
 * order, again while the word is non-zero — the generator
 *
 *     acknowledge; do { all = fetchAndClear(); for msg of all: yield* handleMessage(msg) } while (wordSet()); eoi
 *
 * at the same virtual times, without a generator object per interrupt.
 */
export class DemuxFrame extends SteppedFrame {
  /** The word as fetched in this pass, and the next message bit to look at (MESSAGES: pass done). */
  private all = 0;
  private msg = MESSAGES;

  constructor(private readonly host: DemuxHost) {
    super();
  }

  /** Acknowledge, then the first fetch and the messages up to the first that runs code. */
  protected start(): CpuCode<void> | null {
    this.host.acknowledge(this.cpu, this.line);
    this.fetch();
    return this.more();
  }

  /** The next message with code to run, fetching again while the word is set; null: done. */
  protected more(): CpuCode<void> | null {
    const host = this.host;
    for (;;) {
      if (this.msg === MESSAGES) {
        if (!host.wordSet(this.cpu)) {
          host.eoi(this.cpu, this.line);
          return null;
        }
        this.fetch();
      }
      const msg = this.msg++;
      if ((this.all & (1 << msg)) === 0) continue;
      const code = host.handleMessage(this.cpu, msg);
      if (code !== null) return code;
    }
  }

  /** Back to the backend's free list. */
  protected released(): void {
    this.host.release(this);
  }

  private fetch(): void {
    this.all = this.host.fetchAndClear(this.cpu);
    this.msg = 0;
  }
}
