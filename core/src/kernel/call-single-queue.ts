import type { CallSingleData } from "./csd";
import { typeIndex } from "./queue-entries";

/**
 * The per-CPU `call_single_queue`: a lock-less singly linked list (llist) through `csd.next`.
 * `add` pushes at the head and reports whether the list was empty, which is what decides if an
 * IPI is sent. `delAll` takes the whole list and returns it oldest first.
 */
export class CallSingleQueue {
  private readonly heads: (CallSingleData | null)[];
  /** Entries queued, by type (async, sync, irq_work, ttwu: see `ENTRY_TYPE_NAMES`). */
  readonly addedByType = new Float64Array(4);
  /** Of those, adds that found the queue non-empty (no IPI needed), by type. */
  readonly joinedByType = new Float64Array(4);

  constructor(nrCpus: number) {
    this.heads = new Array<CallSingleData | null>(nrCpus).fill(null);
  }

  /** llist_add: push `csd` on `cpu`'s queue; true when the queue was empty before. */
  add(cpu: number, csd: CallSingleData): boolean {
    const first = this.heads[cpu];
    csd.next = first;
    this.heads[cpu] = csd;
    const t = typeIndex(csd.flags);
    this.addedByType[t]++;
    if (first !== null) this.joinedByType[t]++;
    return first === null;
  }

  /** llist_del_all + llist_reverse_order: take every entry, returned in FIFO order. */
  delAll(cpu: number): CallSingleData | null {
    let node = this.heads[cpu];
    if (node === null) return null;
    this.heads[cpu] = null;
    let prev: CallSingleData | null = null;
    while (node !== null) {
      const next: CallSingleData | null = node.next;
      node.next = prev;
      prev = node;
      node = next;
    }
    return prev;
  }

  /** llist_empty. */
  isEmpty(cpu: number): boolean {
    return this.heads[cpu] === null;
  }

  /** Entries queued on `cpu`, newest first (walks the list: for reports and tests). */
  entries(cpu: number): CallSingleData[] {
    const out: CallSingleData[] = [];
    for (let n = this.heads[cpu]; n !== null; n = n.next) out.push(n);
    return out;
  }
}
