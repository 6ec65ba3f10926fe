import { WaitChannel } from "../machine/step";
import type { CallSingleData } from "./csd";

/**
 * What a waiting many-call spins on: the SYNC csds it queued. Each csd of the call points here;
 * unlocking one counts down `pending`, and the waiter is woken once, when the last callback has
 * returned. This is the kernel's "csd_lock_wait on every target in turn" with one wake-up instead
 * of one per target; reports still name the first csd that is still locked.
 */
export class CallCompletion extends WaitChannel {
  /** SYNC csds of the current call not yet unlocked. */
  pending = 0;
  /**
   * The csds of the current call are `list[0..count)`, in queue order. The array is reused and
   * never truncated: `length = 0` would drop its backing store, and every broadcast would grow a
   * new one, a target at a time.
   */
  private readonly list: CallSingleData[] = [];
  private count = 0;
  private scan = 0;
  /** Latest unlock time of the csds `firstLocked` has passed: when the wait on the current one began. */
  scannedUnlockAt = 0;
  /** The CPU waiting on this call under the lock-wait watchdog, or -1 (see CsdLockWatchdog). */
  watcher = -1;

  override get isCsdWait(): boolean {
    return true;
  }

  /** Start a new call. */
  reset(): void {
    this.pending = 0;
    this.count = 0;
    this.scan = 0;
    this.scannedUnlockAt = 0;
  }

  /** Add a csd of the current call (after the ones added before). */
  add(csd: CallSingleData): void {
    this.list[this.count++] = csd;
  }

  /** The csds of the current call, in queue order (a copy). */
  get csds(): CallSingleData[] {
    return this.list.slice(0, this.count);
  }

  blocked(): boolean {
    return this.pending > 0;
  }

  /** The first csd of the call that is still locked (what the waiter "spins on" right now). */
  firstLocked(): CallSingleData | null {
    const c = this.list;
    const n = this.count;
    while (this.scan < n && !c[this.scan].locked) {
      const at = c[this.scan++].unlockedAt;
      if (at > this.scannedUnlockAt) this.scannedUnlockAt = at;
    }
    return this.scan < n ? c[this.scan] : null;
  }

  override holderCpu(): number {
    return this.firstLocked()?.dst ?? -1;
  }

  describe(): string {
    const first = this.firstLocked();
    const more = this.pending > 1 ? ` (+${this.pending - 1} more csd(s) of the call)` : "";
    return first ? `${first.describe()}${more}` : "call complete";
  }
}
