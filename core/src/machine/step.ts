/**
 * What code running on a simulated CPU yields to the machine.
 *
 * CPU code is a generator. Between two yields it is atomic: no other CPU acts. It yields
 * - a number: the ns of virtual time the step just done took (0 is allowed: "others may act now");
 * - a {@link Wait}: "I spin until this condition clears". The yield returns only once the
 *   condition is clear. While blocked the CPU still takes interrupts if they are enabled.
 *
 * Kernel routines compose with `yield*`.
 */
export type Step = number | Wait;

/** Code that runs on a simulated CPU and returns T. */
export type CpuCode<T = void> = Generator<Step, T, void>;

/** A condition a CPU spins (or halts) on. */
export interface Wait {
  /** True while the spinning CPU must keep waiting. */
  blocked(cpu: number): boolean;
  /** The waiter CPU registers so it is woken when the condition may have changed. */
  addWaiter(cpu: number): void;
  /** What is waited for, for deadlock and watchdog reports ("csd#12 (flush_tlb) queued on CPU 1"). */
  describe(): string;
  /** The CPU whose action ends this wait (for the wait-for graph), or -1 if none in particular. */
  holderCpu(): number;
  /** A halt (hlt/mwait): ends as soon as the CPU takes an interrupt. */
  readonly wakesOnInterrupt: boolean;
  /** A CSD lock wait: watched by the lock-wait watchdog and named in stuck-CSD reports. */
  readonly isCsdWait: boolean;
  /**
   * The waiting CPU is busy, not spinning: its code is running while hardware does the work it
   * waits for (a hypercall that walks a CPU list). Its time counts in `busyNs`, not `spinNs`.
   * Default false.
   */
  readonly countsAsBusy?: boolean;
}

/**
 * A wait condition with its own waiter list. Subclasses define `blocked`; whoever changes the
 * condition calls `Machine.wake(channel)`.
 */
export abstract class WaitChannel implements Wait {
  /** First CPU blocked on this channel, or -1 (most channels have one waiter: no array needed). */
  firstWaiter = -1;
  /** Further waiters, allocated only when a second CPU waits. */
  moreWaiters: number[] | null = null;
  /** Prototype getters, not fields: a channel (e.g. every csd) carries no per-instance flags. */
  get wakesOnInterrupt(): boolean {
    return false;
  }
  get isCsdWait(): boolean {
    return false;
  }
  get countsAsBusy(): boolean {
    return false;
  }
  abstract blocked(cpu: number): boolean;
  abstract describe(): string;
  holderCpu(): number {
    return -1;
  }
  addWaiter(cpu: number): void {
    if (this.firstWaiter === -1 || this.firstWaiter === cpu) {
      this.firstWaiter = cpu;
      return;
    }
    const more = (this.moreWaiters ??= []);
    if (more.indexOf(cpu) < 0) more.push(cpu);
  }
  /** Are CPUs blocked here? */
  get hasWaiters(): boolean {
    return this.firstWaiter !== -1;
  }
}

/** A condition given as a function, for scenario code: `yield waitUntil(() => flag, "flag")`. */
export class PredicateWait extends WaitChannel {
  constructor(
    private readonly done: () => boolean,
    private readonly what: string,
    private readonly holder = -1,
  ) {
    super();
  }
  blocked(): boolean {
    return !this.done();
  }
  describe(): string {
    return this.what;
  }
  override holderCpu(): number {
    return this.holder;
  }
}
