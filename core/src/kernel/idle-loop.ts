import type { Cpu } from "../machine/cpu";
import type { Machine } from "../machine/machine";
import type { CpuCode, Step } from "../machine/step";
import { IdleWait } from "./idle-wait";
import type { KernelMemory } from "./kernel-memory";

/**
 * How an idle CPU sleeps (the kernel's idle driver): `halt` (x86 `hlt`, `idle=halt`: polling
 * only between sleeps), `mwait` (x86 MWAIT idle: polling also during the sleep, which a write to
 * need_resched ends) or `poll` (`idle=poll`: never sleeps, spins on need_resched).
 */
export type IdleMode = "halt" | "mwait" | "poll";

/** The idle modes, for option checks and `--idle`. */
export const IDLE_MODES: readonly IdleMode[] = ["halt", "mwait", "poll"];

/** States of {@link IdleLoop} (where its next step resumes). */
const IDLE_START = 0;
const IDLE_OUTER = 1;
const IDLE_INNER = 2;
const IDLE_POLL_WOKEN = 3;
const IDLE_WINDOW_DONE = 4;
const IDLE_SLEEP = 5;
const IDLE_HALT_WOKEN = 6;
const IDLE_MWAIT_WOKEN = 7;
const IDLE_REPOLL = 8;
const IDLE_FLUSH = 9;
const IDLE_DONE = 10;

/**
 * The result every idle step yields, shared by all CPUs' idle loops: whoever calls `next` reads
 * it before the next call of any code (the machine does, and so does `yield*`), and one shared
 * object stays in cache where one per CPU would be another miss on a big machine.
 */
const IDLE_STEP: IteratorYieldResult<Step> = { done: false, value: 0 };

/** What every CPU's {@link IdleLoop} of one kernel shares. */
export interface IdleLoopConfig {
  /** How the CPUs sleep. */
  readonly mode: IdleMode;
  /** The architecture has TIF_POLLING_NRFLAG (false: setting and clearing it are no-ops). */
  readonly pollingFlag: boolean;
  /** The kernel's shared state under a weak memory model, or null (sc). */
  readonly mem: KernelMemory | null;
  /** The queue flush the loop runs on its way out (`flush_smp_call_function_queue`), on the running CPU. */
  readonly flush: () => CpuCode<void>;
}

/**
 * do_idle as the kernel runs it. The idle task polls (TIF_POLLING_NRFLAG) from the moment it
 * enters the loop. `halt` clears the flag just before each `hlt` and sets it again after the
 * wake-up, so a call arriving in the polling window between two halts gets need_resched and no
 * IPI, while one arriving during the halt gets an IPI whose handler runs it in hard IRQ. `mwait`
 * keeps polling during the sleep (a need_resched write ends it), and clears the flag when an
 * interrupt wakes it. `poll` polls with interrupts on and never sleeps; its interrupt handlers run
 * with the flag still set. The loop leaves only when need_resched is set (or a program arrives);
 * only then does it flush the call queue from the idle task (`flush_smp_call_function_queue`).
 * A CPU idle when the run starts (t = 0) is already asleep: the machine starts in a steady state.
 * With `mem` (a weak memory model) the flag word's updates and the barriers next to them go
 * through the memory layer as well. `pollingFlag` false models an architecture without
 * TIF_POLLING_NRFLAG (6.1: arm64, riscv, s390): setting and clearing the flag are no-ops there, so
 * the idle task never polls and every call to an idle CPU sends an IPI.
 *
 * One object per CPU is both the idle task and what it sleeps on (its {@link IdleWait}): the loop
 * is written as a state machine, so an idle CPU's code is this one object, not a generator with
 * its register file beside a wait object (on an 8192-CPU machine a broadcast visits the targets
 * in random order, and every separate object is a cache miss). {@link restart} starts it anew
 * each time the CPU goes idle; the machine runs at most one idle frame per CPU.
 */
export class IdleLoop extends IdleWait implements CpuCode<void> {
  // Fields in memory order: what every idle step reads first (no parameter properties, which
  // would come before them). What is the same for every CPU is in the shared `config`: 104
  // bytes a CPU (was 128), two cache lines on a big machine more often than three.
  private readonly c: Cpu;
  private state = IDLE_DONE;
  /** Asleep already when the loop began (t = 0): the first sleep skips the polling window. */
  private asleep = false;
  /** Interrupts taken before the current sleep (poll, mwait: was it an interrupt that woke it?). */
  private irqs = 0;
  /** The queue flush being run on the way out of idle. */
  private inner: CpuCode<void> | null = null;
  private readonly config: IdleLoopConfig;

  /** @param config the kernel's idle settings, one object shared by every CPU's loop */
  constructor(machine: Machine, cpu: number, config: IdleLoopConfig) {
    super(machine, cpu);
    this.c = machine.cpus[cpu];
    this.config = config;
  }

  /** Start the loop from the top (the CPU goes idle); returns this object as the idle task's code. */
  restart(): this {
    this.state = IDLE_START;
    this.inner = null;
    return this;
  }

  /**
   * Asleep until need_resched is set or a program is queued (the CPU's own fields, read
   * directly). A halted CPU (`hlt`) does not see need_resched: only an interrupt (or a program
   * queued for it) ends the halt, so a kick that sets need_resched without an IPI is lost there.
   */
  override blocked(): boolean {
    return (this.state === IDLE_HALT_WOKEN || !this.c.needResched) && this.c.programsQueued === 0;
  }

  [Symbol.iterator](): this {
    return this;
  }

  return(): IteratorReturnResult<void> {
    this.state = IDLE_DONE;
    this.inner = null;
    return { done: true, value: undefined };
  }

  throw(e: unknown): never {
    this.state = IDLE_DONE;
    this.inner = null;
    throw e;
  }

  [Symbol.dispose](): void {
    this.return();
  }

  private yieldStep(v: Step, next: number): IteratorYieldResult<Step> {
    this.state = next;
    IDLE_STEP.value = v;
    return IDLE_STEP;
  }

  next(): IteratorResult<Step, void> {
    const c = this.c;
    const cost = this.machine.cost;
    const cpu = this.cpu;
    const { mode, pollingFlag, mem } = this.config;
    for (;;) {
      switch (this.state) {
        case IDLE_START:
          // At t = 0, or back after a stopper or a return from offline: asleep already (the
          // first sleep skips the polling window), unless need_resched says otherwise below.
          this.asleep = this.machine.now === 0 || c.idleResumesAsleep;
          c.idleResumesAsleep = false;
          this.state = IDLE_OUTER;
          continue;
        case IDLE_OUTER:
          if (c.programsQueued > 0) {
            this.state = IDLE_DONE;
            continue;
          }
          if (pollingFlag) {
            c.polling = true;
            mem?.idleSetPolling(cpu);
          }
          this.state = IDLE_INNER;
          continue;
        case IDLE_INNER:
          if (c.needResched || c.programsQueued > 0) {
            // Left because need_resched is set: stop polling, flush the queue, "schedule" (need_resched
            // stays set through the flush: schedule_idle clears it).
            c.polling = false;
            mem?.idleExit(cpu);
            this.inner = this.config.flush();
            this.state = IDLE_FLUSH;
            continue;
          }
          if (mode === "poll") {
            // cpu_idle_poll: interrupts on, spin on need_resched.
            c.idleExitNs = cost.pollExitNs;
            this.irqs = c.irqsTaken;
            return this.yieldStep(this, IDLE_POLL_WOKEN);
          }
          // The loop's bookkeeping before the sleep: interrupts off, still polling. (Set directly:
          // the idle task's own irq toggling is not traced.)
          if (!this.asleep) {
            c.irqsDisabled = true;
            return this.yieldStep(cost.idlePollWindowNs, IDLE_WINDOW_DONE);
          }
          this.state = IDLE_SLEEP;
          continue;
        case IDLE_POLL_WOKEN:
          if (c.irqsTaken === this.irqs) return this.yieldStep(cost.pollExitNs, IDLE_INNER);
          this.state = IDLE_INNER;
          continue;
        case IDLE_WINDOW_DONE:
          c.irqsDisabled = false;
          this.state = IDLE_SLEEP;
          continue;
        case IDLE_SLEEP:
          this.asleep = false;
          if (mode === "halt") {
            // current_clr_polling_and_test, then sti; hlt: only an interrupt ends the halt.
            c.polling = false;
            if (pollingFlag) mem?.idleClrPollingAndTest(cpu);
            // Halting with need_resched set ends at once (the idle wait is not blocked) and costs no
            // exit here, so dropping this test changes nothing a run shows.
            // Stryker disable next-line ConditionalExpression: equivalent mutant (see above)
            if (c.needResched || c.programsQueued > 0) {
              this.state = IDLE_INNER;
              continue;
            }
            c.idleExitNs = cost.haltExitNs;
            return this.yieldStep(this, IDLE_HALT_WOKEN);
          }
          // mwait_idle_with_hints: the flag stays set while asleep; a need_resched write wakes it.
          if (c.needResched || c.programsQueued > 0) {
            this.state = IDLE_INNER;
            continue;
          }
          c.idleExitNs = cost.mwaitExitNs;
          c.pollingEndsOnWake = true;
          this.irqs = c.irqsTaken;
          return this.yieldStep(this, IDLE_MWAIT_WOKEN);
        case IDLE_HALT_WOKEN:
          this.state = IDLE_REPOLL;
          continue;
        case IDLE_MWAIT_WOKEN:
          c.pollingEndsOnWake = false;
          if (c.irqsTaken === this.irqs) return this.yieldStep(cost.mwaitExitNs, IDLE_REPOLL);
          this.state = IDLE_REPOLL;
          continue;
        case IDLE_REPOLL:
          if (pollingFlag) {
            c.polling = true;
            mem?.idleSetPolling(cpu);
          }
          this.state = IDLE_INNER;
          continue;
        case IDLE_FLUSH: {
          const r = this.inner!.next();
          if (r.done !== true) return r;
          this.inner = null;
          c.needResched = false;
          mem?.idleClearNeedResched(cpu);
          // schedule_idle: with a stop_machine gathering, the stopper runs now; the idle task
          // comes back to the top of do_idle afterwards (the machine starts it anew).
          this.state = this.machine.stopPending ? IDLE_DONE : IDLE_OUTER;
          continue;
        }
        default:
          return { done: true, value: undefined };
      }
    }
  }
}
