import type { CallSingleData } from "./csd";
import { typeIndex } from "./queue-entries";

/**
 * The per-CPU `call_single_queue`: a lock-less singly linked list (llist) through `csd.next`.
 * `add` queues an entry and reports whether the list was empty, which is what decides if an IPI
 * is sent. `delAll` takes the whole list and returns it oldest first, as llist_del_all followed
 * by llist_reverse_order does. The kernel pushes at the head and reverses when it takes the
 * list; this queue keeps the list oldest first as it grows (a tail per CPU), so taking it is one
 * store instead of a walk: on a big machine every entry of that walk was a cache miss in the
 * target's interrupt, in a chain of misses that could not overlap. Same entries, same order.
 */
export class CallSingleQueue {
  /**
   * Per CPU, side by side (one cache line for both): at 2 * cpu the oldest entry, at 2 * cpu + 1
   * the newest, whose `next` the next add sets (null, null: empty).
   */
  private readonly ends: (CallSingleData | null)[];
  /** Entries queued, by type (async, sync, irq_work, ttwu: see `ENTRY_TYPE_NAMES`). */
  readonly addedByType = new Float64Array(4);
  /** Of those, adds that found the queue non-empty (no IPI needed), by type. */
  readonly joinedByType = new Float64Array(4);

  constructor(nrCpus: number) {
    this.ends = new Array<CallSingleData | null>(2 * nrCpus).fill(null);
  }

  /** llist_add: queue `csd` on `cpu`'s queue; true when the queue was empty before. */
  add(cpu: number, csd: CallSingleData): boolean {
    const ends = this.ends;
    const last = ends[2 * cpu + 1];
    csd.next = null;
    if (last === null) ends[2 * cpu] = csd;
    else last.next = csd;
    ends[2 * cpu + 1] = csd;
    const t = typeIndex(csd.flags);
    this.addedByType[t]++;
    if (last !== null) this.joinedByType[t]++;
    return last === null;
  }

  /** llist_del_all + llist_reverse_order: take every entry, returned in FIFO order. */
  delAll(cpu: number): CallSingleData | null {
    const ends = this.ends;
    const head = ends[2 * cpu];
    if (head === null) return null;
    ends[2 * cpu] = null;
    ends[2 * cpu + 1] = null;
    return head;
  }

  /** llist_empty. */
  isEmpty(cpu: number): boolean {
    return this.ends[2 * cpu] === null;
  }

  /** Entries queued on `cpu`, newest first, as the kernel's list holds them (for reports and tests). */
  entries(cpu: number): CallSingleData[] {
    const out: CallSingleData[] = [];
    for (let n = this.ends[2 * cpu]; n !== null; n = n.next) out.push(n);
    return out.reverse();
  }
}
