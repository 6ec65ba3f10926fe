import {
  InvalidArgumentError,
  InvalidStepError,
  SimulationError,
  SmpcallError,
  UserCodeError,
  describeThrown,
  describeValue,
} from "../errors";
import { checkFunction, checkInteger, checkObject, isGenerator } from "../validate";
import { TraceSink, type TraceCpuState } from "../trace/trace-sink";
import { EarliestEventChooser, type Chooser } from "./chooser";
import { makeCostModel, type CostModel } from "./cost-model";
import { Cpu, FRAME_IDLE, FRAME_IRQ, FRAME_TASK } from "./cpu";
import { CpuMask } from "./cpumask";
import { EV_CALLBACK, EV_CANCELLED, EV_CPU_RESUME, EV_IRQ_RAISE, EV_WATCHDOG, EventHeap } from "./event-heap";
import { Prng } from "./prng";
import type { CpuCode, Wait, WaitChannel } from "./step";
import { Topology, type TopologyOptions } from "./topology";
import { StopMachineRequest, multiCpuStop } from "./stop-machine";
import { findWaitCycle, type BlockedCpu, type DeadlockReport, type RunProblem } from "./problems";

/**
 * The `caller`/`parent` an irq_disable/irq_enable trace record names when the code that changed
 * the interrupt state did not say (a CPU's program: its function, called from the kernel thread).
 */
const IRQ_CALLER = "smpcall_program";
const IRQ_PARENT = "kthread";

/** Smallest machine (CPUs). */
export const MIN_CPUS = 2;
/** Largest machine (CPUs). */
export const MAX_CPUS = 8192;

/** A frame that runs hotplug stop work (irqs off, preempting the task). */
const FRAME_STOP = 3;
/** Most steps a CPU takes in a row on the earliest-first fast path before yielding to the heap. */
const FAST_FORWARD_LIMIT = 256;
/**
 * Longest step or delivery delay code may ask for: 10^15 ns (about 11.6 days of virtual time).
 * Beyond it, sums of ns stop being exact in a double; a longer step is a bug, not a workload.
 */
export const MAX_STEP_NS = 1e15;

/** How to build a {@link Machine}. */
export interface MachineConfig {
  /** Number of CPUs, MIN_CPUS..MAX_CPUS. */
  cpus: number;
  /** Seed of every random choice; recorded in reports. */
  seed?: number;
  /** Shape of the machine (default: 2 SMT threads per core, 16 cores per package, 1 package per node). */
  topology?: TopologyOptions;
  /** Cost overrides (ns). */
  cost?: Partial<CostModel>;
  /** Who makes nondeterministic choices (default: earliest event first). */
  chooser?: Chooser;
  /** Trace sink (default: a disabled one). */
  trace?: TraceSink;
  /**
   * CPUs that are present but start offline and have never been booted (x86 shorthand rule);
   * bring them up with the kernel's `cpuUp`.
   */
  offlineAtBoot?: readonly number[];
}

/** How a run ended ("panic": something called {@link Machine.panic}, e.g. a sparc64 mondo timeout). */
export type RunStatus = "completed" | "deadlock" | "step-limit" | "panic";

/** What {@link Machine.run} returns. */
export interface RunOutcome {
  readonly status: RunStatus;
  /** Virtual time when the run ended (ns). */
  readonly timeNs: number;
  /** Events dispatched in this run. */
  readonly events: number;
  /** Deadlock details when status is "deadlock". */
  readonly deadlock?: DeadlockReport;
  /** Every problem found (deadlock, stuck CSDs, lost calls, arch errors), in order. */
  readonly problems: readonly RunProblem[];
}

/** Options of {@link Machine.run}. */
export interface RunOptions {
  /** Stop with status "step-limit" after this many events (default: unlimited). */
  maxEvents?: number;
  /** Called every `progressEvery` events (default 65536) with the events so far: for progress bars. */
  onProgress?: (events: number, machine: Machine) => void;
  progressEvery?: number;
  /** Added to the step-limit problem's message: where the limit came from and how to raise it. */
  limitHint?: string;
}

/**
 * Who else keeps a CPU's idle flags (the kernel's memory layer does under a weak memory model,
 * as a word other CPUs read) is told when the machine itself changes them. Both run on that CPU
 * (`current`).
 */
export interface IdleFlagHooks {
  /** An interrupt ended `cpu`'s MWAIT sleep: its polling flag is cleared (`current_clr_polling`). */
  pollingCleared(cpu: number): void;
  /** A stop_machine woke idle `cpu` for its stopper: its need_resched is set. */
  needReschedSet(cpu: number): void;
}

/**
 * A deterministic discrete-event multiprocessor. Virtual time in ns; an event heap ordered by
 * (time, seq); N CPUs each running a stack of generator frames. One {@link Chooser} decides every
 * nondeterministic choice. Code learns which CPU it runs on from {@link Machine.current}.
 */
export class Machine {
  readonly nrCpus: number;
  readonly seed: number;
  readonly cpus: readonly Cpu[];
  /** `cpu_online_mask`. */
  readonly onlineMask: CpuMask;
  /** `cpu_present_mask`: every CPU of the machine. */
  readonly presentMask: CpuMask;
  readonly topology: Topology;
  readonly cost: CostModel;
  readonly heap = new EventHeap();
  /** The machine's own random stream (latency jitter); faults go through the chooser. */
  readonly random: Prng;
  readonly chooser: Chooser;
  readonly trace: TraceSink;
  /** Virtual time, ns. */
  now = 0;
  /** CPU whose code is running right now (smp_processor_id), or -1 outside CPU code. */
  current = -1;
  /** Total events dispatched over the machine's life. */
  eventsDispatched = 0;
  /** Problems reported so far (kernel, backend, machine). */
  readonly problems: RunProblem[] = [];
  /**
   * Called when a CPU passes a point where RCU would see a quiescent state: it enables interrupts
   * in task context, returns from an interrupt to task context with them enabled, or goes idle.
   */
  onQuiescent: ((cpu: number) => void) | null = null;
  /** Told when the machine itself changes a CPU's idle flags (see {@link IdleFlagHooks}); null: nobody. */
  idleFlagHooks: IdleFlagHooks | null = null;
  /**
   * Settle wakes that would change nothing at once (the schedule explorer sets this; default
   * false). A wake of a CPU whose innermost wait is still blocked normally schedules a resume
   * that only finds it blocked and registers it again. That no-op resume is an event the
   * explorer would offer as a choice, and it comes from a registration the CPU may have left on
   * a channel it no longer waits on (a CPU that waited on two channels and was woken through
   * one stays on the other), which the explorer's state key does not hold: two states with
   * equal keys then had different futures. Set, the machine registers the CPU again right away
   * and schedules nothing, so what a wake does depends only on the state the key holds. The
   * wait's `blocked` is then asked at the wake too (with the CPU as the running one), so it must
   * only read state, as every built-in wait does.
   */
  settleSpuriousWakes = false;

  /** Sink of the load that warms the next event's CPU (see `runLoop`); never read for anything else. */
  private warmed = 0;
  private progressCount = 0;
  /** Steps taken on the fast path (counted as events). */
  private fastForwardSteps = 0;
  /** Fast-path steps taken in a row by the CPU being stepped (bounded by FAST_FORWARD_LIMIT). */
  private fastRun = 0;
  private readonly fastForward: boolean;
  private programsRunning = 0;
  private stalled = false;
  private stallEpoch = 0;
  private stallTime = 0;
  private readonly watchdogFiredEpoch: Int32Array;
  /** Trace flow id of the first raise of each pending line, 32 lines per CPU (for IPI arrows). */
  private readonly pendingFlow: Float64Array;
  private readonly callbacks: ((() => void) | undefined)[] = [];
  private readonly freeCallbackSlots: number[] = [];
  private readonly queuedPrograms: (CpuCode<unknown>[] | undefined)[];
  private started = false;
  private idleTask: (cpu: number) => CpuCode<void> = defaultIdleTask(this);
  private interruptHandler: ((cpu: number, line: number) => CpuCode<void>) | null = null;
  private lineNamer: (line: number) => string = (line) => `line ${line}`;
  /** Who installed the interrupt handler, for messages (`backend generic`). */
  private handlerOwner = "the interrupt handler";
  /** CPU being dispatched (-1: a hardware callback; -2: the run loop itself), for errors that escape. */
  private dispatching = -2;
  /** The error that stopped a run; the machine cannot continue after it. */
  private crashed: Error | null = null;
  private readonly endOfRunChecks: (() => RunProblem[])[] = [];
  private readonly bootHooks: ((cpu: number) => void)[] = [];
  /** Lines taken even with interrupts disabled (bit n = line n), see {@link setTrapLines}. */
  private trapLines = 0;
  /** Lines that count their raises instead of merging them (bit n = line n), see {@link setCountingLines}. */
  private countingLines = 0;
  /** Arrived, untaken raises of each counting line, 32 per CPU (allocated with the first counting line). */
  private lineCounts: Uint32Array | null = null;
  private panickedFlag = false;
  /** The stop_machine request running now, or null. */
  private stopActive: StopMachineRequest | null = null;
  /** stop_machine requests (and `afterStops` calls) waiting for the running one, in order. */
  private readonly stopQueue: (StopMachineRequest | AfterStops)[] = [];

  constructor(config: MachineConfig) {
    checkObject("the machine config", config);
    const n = config.cpus;
    if (typeof n !== "number" || !Number.isInteger(n) || n < MIN_CPUS || n > MAX_CPUS) {
      throw new InvalidArgumentError(`a machine has ${MIN_CPUS}..${MAX_CPUS} CPUs, got ${describeValue(n)}`);
    }
    this.nrCpus = n;
    this.seed = config.seed === undefined ? 1 : checkInteger("seed", config.seed, 0, 4294967295);
    if (config.chooser !== undefined) {
      checkObject("chooser", config.chooser);
      for (const f of ["pickEvent", "chooseInt", "chance"] as const)
        checkFunction(`chooser.${f}`, (config.chooser as unknown as Record<string, unknown>)[f]);
    }
    if (config.trace !== undefined && !(config.trace instanceof TraceSink))
      throw new InvalidArgumentError(`trace must be a TraceSink, got ${describeValue(config.trace)}`);
    if (config.offlineAtBoot !== undefined && !Array.isArray(config.offlineAtBoot))
      throw new InvalidArgumentError(
        `offlineAtBoot must be an array of CPU ids, got ${describeValue(config.offlineAtBoot)}`,
      );
    this.random = new Prng(this.seed).fork("machine");
    this.chooser = config.chooser ?? new EarliestEventChooser(new Prng(this.seed).fork("chooser"));
    this.fastForward = this.chooser.earliestFirst;
    this.trace = config.trace ?? new TraceSink(false);
    this.topology = new Topology(n, config.topology);
    this.cost = makeCostModel(config.cost);
    // Not frozen (a frozen array's loads cost 10-30% on the hot path); a run whose array was
    // changed (documented read-only, PORTING.md) stops naming that as the cause (see stopBy).
    this.cpus = Array.from({ length: n }, (_, i) => new Cpu(i));
    this.onlineMask = new CpuMask(n).setAll();
    this.presentMask = new CpuMask(n).setAll();
    this.watchdogFiredEpoch = new Int32Array(n).fill(-1);
    this.pendingFlow = new Float64Array(n * 32);
    this.queuedPrograms = new Array<CpuCode<unknown>[] | undefined>(n);
    for (const cpu of config.offlineAtBoot ?? []) {
      if (typeof cpu !== "number" || !Number.isInteger(cpu) || cpu <= 0 || cpu >= n)
        throw new InvalidArgumentError(
          `offlineAtBoot: CPU ${describeValue(cpu)} must be in 1..${n - 1} (CPU 0 boots the machine)`,
        );
      const c = this.cpus[cpu];
      c.online = false;
      c.bootedOnce = false;
      c.dead = true;
      this.onlineMask.clear(cpu);
    }
  }

  // ---------------------------------------------------------------- wiring (kernel, arch)

  /** Install the idle loop (the kernel's; it halts and flushes the call queue). */
  setIdleTask(task: (cpu: number) => CpuCode<void>): void {
    this.idleTask = task;
  }

  /** Install the arch interrupt entry that runs when a CPU takes a line, and the lines' names. */
  setInterruptHandler(
    handler: (cpu: number, line: number) => CpuCode<void>,
    lineName: (line: number) => string,
    owner = "the interrupt handler",
  ): void {
    this.interruptHandler = handler;
    this.lineNamer = lineName;
    this.handlerOwner = owner;
  }

  /** Add a check run when a run completes (e.g. the kernel's "queues are empty" check). */
  addEndOfRunCheck(check: () => RunProblem[]): void {
    this.endOfRunChecks.push(check);
  }

  // ---------------------------------------------------------------- programs

  /**
   * Run `code` as a task program on `cpu`. Programs on one CPU run one after the other; a CPU
   * with no program runs the idle loop. Can be called before `run` or from CPU code.
   */
  spawn(cpu: number, code: CpuCode<unknown>): void {
    if (typeof cpu !== "number" || !Number.isInteger(cpu) || cpu < 0 || cpu >= this.nrCpus)
      throw new InvalidArgumentError(
        `spawn: CPU ${describeValue(cpu)} does not exist (0..${this.nrCpus - 1})`,
      );
    if (!isGenerator(code))
      throw new InvalidArgumentError(
        `spawn: the program for CPU ${cpu} must be a generator object (call your function* and pass what it returns), got ${describeValue(code)}`,
      );
    (this.queuedPrograms[cpu] ??= []).push(code);
    this.programsRunning++;
    const c = this.cpus[cpu];
    c.programsQueued++;
    if (this.started && !c.dead) {
      const w = c.waiting;
      if (w !== null && c.frameKind(c.depth - 1) === FRAME_IDLE)
        this.scheduleResume(c, this.now + this.cost.pollExitNs);
    }
  }

  /** Does `cpu` have a program waiting to start? (The idle loop returns when it does.) */
  hasQueuedProgram(cpu: number): boolean {
    return this.cpus[cpu].programsQueued > 0;
  }

  /** Number of task programs not finished yet. */
  get unfinishedPrograms(): number {
    return this.programsRunning;
  }

  // ---------------------------------------------------------------- CPU-side helpers

  /** smp_processor_id(): the CPU whose code is running. Throws outside CPU code. */
  smpProcessorId(): number {
    if (this.current < 0)
      throw new SimulationError(
        "smpProcessorId() called outside code running on a simulated CPU: run it inside a program passed to spawn()",
      );
    return this.current;
  }

  /** The running CPU's state. */
  currentCpu(): Cpu {
    return this.cpus[this.smpProcessorId()];
  }

  /** local_irq_save(): disable interrupts on the running CPU and return the previous state. */
  localIrqSave(caller = IRQ_CALLER, parent = IRQ_PARENT): boolean {
    const c = this.currentCpu();
    const was = c.irqsDisabled;
    if (!was) this.setIrqs(c, true, caller, parent);
    return was;
  }

  /** local_irq_restore(flags): put back the state `localIrqSave` returned. */
  localIrqRestore(wasDisabled: boolean, caller = IRQ_CALLER, parent = IRQ_PARENT): void {
    const c = this.currentCpu();
    if (c.irqsDisabled !== wasDisabled) this.setIrqs(c, wasDisabled, caller, parent);
  }

  /** local_irq_disable(). */
  localIrqDisable(caller = IRQ_CALLER, parent = IRQ_PARENT): void {
    this.localIrqSave(caller, parent);
  }

  /** local_irq_enable(): pending interrupts are taken at the next yield. */
  localIrqEnable(caller = IRQ_CALLER, parent = IRQ_PARENT): void {
    this.localIrqRestore(false, caller, parent);
  }

  /** preempt_disable(): the running CPU cannot be preempted (nor stopped by stop_machine) until the matching enable. */
  preemptDisable(): void {
    this.currentCpu().preemptCount++;
  }

  /** preempt_enable(): undo one preemptDisable. Throws if the count would go negative. */
  preemptEnable(): void {
    const c = this.currentCpu();
    if (c.preemptCount === 0)
      throw new SimulationError(
        `preempt_enable on CPU ${c.id} without a matching preempt_disable: pair every preemptDisable with one preemptEnable`,
      );
    c.preemptCount--;
  }

  private setIrqs(c: Cpu, disabled: boolean, caller: string, parent: string): void {
    c.irqsDisabled = disabled;
    if (this.trace.enabled && c.hardirqDepth === 0)
      this.emit(c, disabled ? "irq_disable" : "irq_enable", { caller, parent });
    if (!disabled && c.hardirqDepth === 0 && this.onQuiescent !== null) this.onQuiescent(c.id);
  }

  /** Arm the CSD lock-wait watchdog of the running CPU for its next CSD wait (0 = off). */
  setWatchdogDeadline(deadlineNs: number): void {
    this.currentCpu().watchdogDeadline = deadlineNs;
  }

  // ---------------------------------------------------------------- interconnect

  /**
   * Raise interrupt `line` at `target` after `sentAfterNs` (the sender's own hardware time before
   * the signal leaves, e.g. its slot in a dispatch batch: exact) plus `delayNs` (the delivery
   * latency, which the cost model's jitter varies). A raise of a line that is still pending
   * merges with it: one interrupt is taken for both. Lines are 0..31; a lower line is taken first. Raises to an offline CPU stay pending until it is
   * brought back up. In a run, a CPU's raise of its own line with no delay lands at once (where
   * a queued raise would have landed before that CPU's next step anyway); the explorer keeps it
   * as an event whose landing is a choice. Returns the trace flow id of the raise.
   */
  raise(target: number, line: number, delayNs: number, sentAfterNs = 0): number {
    if (!(typeof target === "number" && Number.isInteger(target) && target >= 0 && target < this.nrCpus))
      this.refuse("raised an interrupt at CPU", target, `which does not exist (0..${this.nrCpus - 1})`);
    if (!(typeof line === "number" && Number.isInteger(line) && line >= 0 && line < 32))
      this.refuse("raised interrupt line", line, "which does not exist (lines are 0..31)");
    if (!(typeof delayNs === "number" && delayNs >= 0 && delayNs <= MAX_STEP_NS))
      this.refuse(
        "raised an interrupt with delay",
        delayNs,
        `: a delay must be a number of ns 0..${MAX_STEP_NS}`,
      );
    if (
      sentAfterNs !== 0 &&
      !(typeof sentAfterNs === "number" && sentAfterNs >= 0 && sentAfterNs + delayNs <= MAX_STEP_NS)
    )
      this.refuse(
        "raised an interrupt sent after",
        sentAfterNs,
        `ns: the time before the signal leaves must be a number of ns 0..${MAX_STEP_NS} with the delay`,
      );
    const j = this.cost.deliveryJitter;
    const delay = j > 0 ? delayNs * (1 + j * (this.random.next() * 2 - 1)) : delayNs;
    const when = this.now + Math.max(0, Math.round(sentAfterNs + delay));
    // A CPU that raises its own line with no delay (sparc's trap handler setting a softint): on
    // the earliest-first path the queued raise would land before that CPU's next step whatever
    // else is due at this instant, so it lands here instead, without an event (on a big machine,
    // one visit to the CPU fewer). The explorer keeps the event, and with it the choice.
    const atOnce = when === this.now && target === this.current && this.fastForward;
    const flow =
      (atOnce ? this.heap.takeSeq() : this.heap.seq(this.push(when, EV_IRQ_RAISE, target, line))) + 1;
    if (atOnce) this.deliver(this.cpus[target], line, flow);
    if (this.trace.enabled) {
      const src = this.current >= 0 ? this.cpus[this.current] : null;
      this.trace.emit(
        this.now,
        src ? src.id : target,
        src ?? IDLE_STATE,
        "ipi_raise",
        { target_cpus: target, reason: this.lineNamer(line) },
        flow,
      );
    }
    return flow;
  }

  /**
   * Make the lines of `mask` (bit n = line n) trap lines: a CPU takes them even with interrupts
   * disabled, as sparc64 takes its cpu-mondo trap under a raised PIL (the trap is gated by
   * PSTATE.IE, which `local_irq_disable` does not clear). A trap line is not taken while the CPU
   * is already in the handler of a trap line (traps run with traps off). Default: none.
   */
  setTrapLines(mask: number): void {
    this.trapLines = checkLineMask("setTrapLines", mask);
  }

  /** See {@link Interconnect.holdTraps}. */
  holdTraps(held: boolean): void {
    if (typeof held !== "boolean") this.refuse("called holdTraps with", held, "; pass true or false");
    const c = this.currentCpu();
    if (held && !c.irqsDisabled)
      this.refuse(
        "called holdTraps(true) with interrupts",
        "enabled",
        "; disable them first (localIrqSave), as a hypercall runs with interrupts off",
      );
    c.trapsHeld = held;
  }

  /**
   * Make the lines of `mask` (bit n = line n) counting lines: every raise that arrives is kept
   * and taken as an interrupt of its own (N raises, N interrupts), instead of merging with a
   * raise still pending as latch lines do. For hardware that keeps a signal pending per sender or
   * per message (s390's emergency signal is pending once per source CPU: keep a bit per
   * (target, sender) in the backend, raise only when it was clear, clear it in the handler).
   * Other lines stay latches. Call once, in the constructor. Default: none.
   */
  setCountingLines(mask: number): void {
    this.countingLines = checkLineMask("setCountingLines", mask);
    if (this.countingLines !== 0 && this.lineCounts === null)
      this.lineCounts = new Uint32Array(this.nrCpus * 32);
  }

  /**
   * How many raises of `line` have arrived at `cpu` and not been taken: 0 or 1 for a latch line
   * (raises merge), any number for a counting line. A raise still in flight is not counted.
   */
  pendingCount(cpu: number, line: number): number {
    this.checkCpuLine("pendingCount", cpu, line);
    if ((this.countingLines & (1 << line)) !== 0) return this.lineCounts![(cpu << 5) | line];
    return (this.cpus[cpu].pendingLines >>> line) & 1;
  }

  /**
   * Is `cpu` running, as SIGP SENSE RUNNING or a hypervisor would say: not dead (a CPU taken
   * offline runs until its dying step ends) and not halted in idle waiting for an interrupt. A CPU polling in idle (`cpus[cpu].polling`)
   * is running; one spinning on a lock or in task code or a handler is running.
   */
  isRunning(cpu: number): boolean {
    if (!(typeof cpu === "number" && Number.isInteger(cpu) && cpu >= 0 && cpu < this.nrCpus))
      this.refuse("asked isRunning of CPU", cpu, `which does not exist (0..${this.nrCpus - 1})`);
    const c = this.cpus[cpu];
    if (c.dead) return false;
    const w = c.waiting;
    return !(w !== null && w.wakesOnInterrupt && !c.polling);
  }

  /**
   * Ns of `cpu`'s current step still ahead of the clock. A step's cost is added to `busyNs` when
   * the step starts, so a run stopped mid-step (step limit, panic) has counted busy time the clock
   * never reached; a report subtracts this. 0 for a CPU waiting or between steps.
   */
  unelapsedStepNs(cpu: number): number {
    if (!(typeof cpu === "number" && Number.isInteger(cpu) && cpu >= 0 && cpu < this.nrCpus))
      this.refuse("asked unelapsedStepNs of CPU", cpu, `which does not exist (0..${this.nrCpus - 1})`);
    const c = this.cpus[cpu];
    return c.resumeEvent >= 0 && c.topWait === null && c.resumeAt > this.now ? c.resumeAt - this.now : 0;
  }

  /**
   * Ns `cpu` has spun in waits that have not ended yet. `spinNs` grows when a wait ends, so a run
   * that stops with CPUs still spinning (a deadlock, a step limit) has not counted their last
   * waits; a report adds this. Frames waiting under an interrupt count as they will when their waits end.
   */
  unendedSpinNs(cpu: number): number {
    if (!(typeof cpu === "number" && Number.isInteger(cpu) && cpu >= 0 && cpu < this.nrCpus))
      this.refuse("asked unendedSpinNs of CPU", cpu, `which does not exist (0..${this.nrCpus - 1})`);
    const c = this.cpus[cpu];
    let ns = 0;
    for (let i = 0; i < c.depth; i++) {
      const w = c.frameWait(i);
      if (w === null) continue;
      if (!this.frameWaitHalts(c, i, w) && w.countsAsBusy !== true) ns += this.now - c.frameWaitSince(i);
    }
    return ns;
  }

  /** Lines `c` can take now: all pending with interrupts enabled, else pending trap lines outside a trap. */
  private takeableLines(c: Cpu): number {
    const pending = c.pendingLines;
    if (!c.irqsDisabled) return pending;
    if (c.trapsHeld) return 0;
    const traps = pending & this.trapLines;
    if (traps === 0) return 0;
    const top = c.depth - 1;
    if (top >= 0 && c.frameKind(top) === FRAME_IRQ && ((1 << c.frameLine(top)) & this.trapLines) !== 0)
      return 0;
    return traps;
  }

  /**
   * End the run now: the kernel panicked (e.g. a sparc64 mondo timeout). `problem` is recorded
   * with kind "panic"; the run returns status "panic" after the end-of-run checks, which report
   * the calls left queued. Call it from CPU code, then yield.
   */
  panic(problem: Omit<RunProblem, "kind">): void {
    if (this.panickedFlag) return;
    this.panickedFlag = true;
    this.reportProblem({ ...problem, kind: "panic" });
  }

  /** Has the kernel panicked (see {@link panic})? */
  get panicked(): boolean {
    return this.panickedFlag;
  }

  /**
   * Is `line` pending at `cpu`: raised, arrived (its latency has elapsed) and not yet taken? A
   * raise still in flight is not pending; a pending line merges the raises that arrive.
   */
  isPending(cpu: number, line: number): boolean {
    this.checkCpuLine("isPending", cpu, line);
    return (this.cpus[cpu].pendingLines & (1 << line)) !== 0;
  }

  /** Drop a pending line without taking it (e.g. hardware that clears a latch); a counting line loses every raise it kept. */
  clearPending(cpu: number, line: number): void {
    this.checkCpuLine("clearPending", cpu, line);
    this.cpus[cpu].pendingLines &= ~(1 << line);
    if ((this.countingLines & (1 << line)) !== 0) this.lineCounts![(cpu << 5) | line] = 0;
  }

  /** Run `fn` (outside any CPU) after `delayNs`: for hardware that acts on its own (queues draining). */
  schedule(delayNs: number, fn: () => void): void {
    if (!(typeof delayNs === "number" && delayNs >= 0 && delayNs <= MAX_STEP_NS))
      this.refuse(
        "scheduled a hardware callback with delay",
        delayNs,
        `: a delay must be a number of ns 0..${MAX_STEP_NS}`,
      );
    if (typeof fn !== "function")
      this.refuse("scheduled a hardware callback that is", fn, ", not a function");
    const slot = this.freeCallbackSlots.length > 0 ? this.freeCallbackSlots.pop()! : this.callbacks.length;
    this.callbacks[slot] = fn;
    this.push(this.now + Math.max(0, delayNs), EV_CALLBACK, -1, slot);
  }

  /** Wake the CPUs spinning on `channel`: they re-check their condition shortly. */
  wake(channel: WaitChannel): void {
    const first = channel.firstWaiter;
    if (first === -1) return;
    channel.firstWaiter = -1;
    this.wakeCpu(first);
    const more = channel.moreWaiters;
    if (more !== null) {
      channel.moreWaiters = null;
      for (let i = 0; i < more.length; i++) this.wakeCpu(more[i]);
    }
  }

  private wakeCpu(cpu: number): void {
    const c = this.cpus[cpu];
    if (c.resumeEvent < 0 && c.waiting !== null && !c.dead) {
      if (this.settleSpuriousWakes && this.stillBlocked(c)) {
        c.topWait!.addWaiter(c.id);
        return;
      }
      this.scheduleResume(c, this.now + this.cost.spinWakeNs);
    }
  }

  /**
   * Would a resume of `c` now only find its innermost wait blocked and register it again (no
   * interrupt to take, no stop_machine to join, no watchdog deadline, the wait still blocked)?
   */
  private stillBlocked(c: Cpu): boolean {
    const w = c.topWait!;
    if (c.pendingLines !== 0 && (!c.irqsDisabled || this.takeableLines(c) !== 0)) return false;
    if (this.stopActive !== null || (w.isCsdWait && c.watchdogDeadline !== 0)) return false;
    // Asked as the resume would ask it: with `c` as the running CPU.
    const prev = this.current;
    this.current = c.id;
    try {
      return w.blocked(c.id);
    } finally {
      this.current = prev;
    }
  }

  /** Record a problem found during the run (the CLI exits 1 when there is any). */
  reportProblem(problem: RunProblem): void {
    if (
      typeof problem !== "object" ||
      problem === null ||
      typeof problem.kind !== "string" ||
      typeof problem.message !== "string"
    )
      this.refuse("reported a problem that is", problem, "; report { kind, time, cpu?, message }");
    this.problems.push(problem);
  }

  // ---------------------------------------------------------------- hotplug primitives

  /**
   * stop_machine: run `work` on `cpu` once every online CPU has been stopped at a point where it
   * can be preempted (see `StopMachineRequest` in stop-machine.ts): a CPU with a preemption count, interrupts
   * disabled or in an interrupt handler is stopped only when it leaves that region. Requests run
   * one at a time, in order; `then` entries (no work) run when every request before them is done.
   * Before the machine has started, nothing runs yet: `work` must then be done by the caller.
   * `what` names the request in messages and in the explorer's state key, which cannot look into
   * `work`: two requests on one CPU with the same `what` must do the same work.
   */
  stopMachine(cpu: number, work: () => CpuCode<void>, what: string): void {
    this.stopQueue.push(new StopMachineRequest(cpu, work, what, this.nrCpus));
    if (this.stopActive === null) this.nextStop();
  }

  /**
   * Run `fn` once every stop_machine request made before it is done (now, if none is pending).
   * `what` names it in the explorer's state key (`bring_up of CPU 2`), which cannot look into
   * `fn`: two waiting calls with the same `what` must do the same thing.
   */
  afterStops(fn: () => void, what: string): void {
    if (this.stopActive === null && this.stopQueue.length === 0) fn();
    else this.stopQueue.push({ fn, what });
  }

  /**
   * The stop_machine requests running and waiting, as text for the explorer's state key: ""
   * when there are none; otherwise the running request (its `what`, the CPU its work runs on,
   * its members, the CPUs whose stoppers have arrived, how many have disabled interrupts and
   * left, whether its work is done) and each waiting request or `afterStops` call by its
   * `what`, in order. CPU ids are written as `CPU n` / `CPUs a,b` so that a renaming of CPUs
   * (symmetry reduction) can rename them.
   */
  stopStateKey(): string {
    const r = this.stopActive;
    if (r === null && this.stopQueue.length === 0) return "";
    let s = "";
    if (r !== null) {
      const arrived = r.members.filter((c) => r.arrivedAt[c] !== 0);
      s += `active ${r.what} on CPU ${r.cpu}, members ${cpuList(r.members)}, arrived ${cpuList(arrived)}, irqs off ${r.irqsOff}, left ${r.left}${r.done ? ", done" : ""}`;
    }
    for (const q of this.stopQueue)
      s += q instanceof StopMachineRequest ? `; waiting ${q.what} on CPU ${q.cpu}` : `; then ${q.what}`;
    return s;
  }

  /** Has the machine started running (its first `run`)? */
  get hasStarted(): boolean {
    return this.started;
  }

  /** A stop_machine request is pending or running. */
  get stopPending(): boolean {
    return this.stopActive !== null;
  }

  private nextStop(): void {
    this.stopActive = null;
    for (;;) {
      const next = this.stopQueue.shift();
      if (next === undefined) return;
      if (!(next instanceof StopMachineRequest)) {
        next.fn();
        continue;
      }
      for (const c of this.cpus) if (c.online && !c.dead) next.members.push(c.id);
      this.stopActive = next;
      // Every member reaches a step boundary: the blocked ones are woken to look; the CPU
      // running now (the requester) gets there at the end of its step, which must not be cut short.
      for (const id of next.members) {
        const c = this.cpus[id];
        if (this.started && c.resumeEvent < 0 && id !== this.current) this.scheduleResume(c, this.now);
      }
      return;
    }
  }

  /** At a step boundary of `c`: if a stop is gathering and `c` can be preempted, push its stopper. */
  private captureForStop(c: Cpu, req: StopMachineRequest): boolean {
    if (
      c.preemptCount !== 0 ||
      c.hardirqDepth !== 0 ||
      c.irqsDisabled ||
      req.arrivedAt[c.id] !== 0 ||
      !req.isMember(c)
    )
      return false;
    // The idle task is not preemptible inside do_idle's loop: the stopper's wake-up sets
    // need_resched (with no IPI while the idle task polls the flag), and the idle task leaves its
    // loop, clears its polling flag, flushes its call queue and only then schedules, to the stopper
    // (its idle code ends there and starts anew afterwards: `stopPending`). Taken over inside the
    // loop, a call queued to it without an IPI (it was polling) would wait for the stop, and a
    // caller waiting for that call with preemption off would keep the stop from ever gathering.
    if (c.idle && c.depth === 1) {
      if (c.needResched || c.polling) {
        if (!c.needResched) {
          c.needResched = true;
          this.idleFlagHooks?.needReschedSet(c.id);
        }
        return false;
      }
      // Asleep without polling (a halt): the idle task schedules away to the stopper and comes
      // back to the top of do_idle afterwards, so its frame ends here and a new one starts once
      // the stopper is done (left under the stopper, it would resume halted and never see a
      // need_resched set meanwhile, e.g. by the reschedule IPI the stopper took).
      // (Not the CPU the stop takes down: it dies in its stopper, over the idle task it died in.)
      if (req.cpu !== c.id) this.endIdleTask(c);
    }
    const stopper = multiCpuStop(
      c,
      req,
      (stage) => this.wake(stage),
      () => {
        if (++req.left === req.members.length) this.nextStop();
      },
    );
    this.pushFrame(c, stopper, FRAME_STOP, -1);
    if (req.arrive(c)) this.wake(req.gather);
    return true;
  }

  /**
   * End `c`'s idle frame, its only frame, where it sleeps: the idle task starts anew when the CPU
   * next runs, straight back to sleep unless need_resched is set (`Cpu.idleResumesAsleep`).
   */
  private endIdleTask(c: Cpu): void {
    if (c.topWait !== null) this.endWait(c, 0, false);
    this.popFrame(c);
    c.idleResumesAsleep = true;
  }

  /** Mark the running CPU dead at the end of its dying step: it stops until `bringUp`. */
  markDead(cpu: number): void {
    this.cpus[cpu].dead = true;
  }

  /** Call `fn(cpu)` in every `bringUp`, before the CPU runs (hardware a boot resets). */
  onCpuBoot(fn: (cpu: number) => void): void {
    if (typeof fn !== "function") this.refuse("registered a boot hook that is", fn, ", not a function");
    this.bootHooks.push(fn);
  }

  /**
   * Bring a dead CPU back: the boot hooks run (they may clear pending lines), then it is online,
   * booted and running again; lines still pending are taken now.
   */
  bringUp(cpu: number): void {
    const c = this.cpus[cpu];
    // A CPU that died in its idle task starts that task anew (cpu_startup_entry: do_idle from the
    // top), not inside the sleep it died in, which would not see a need_resched set meanwhile.
    if (c.depth === 1 && c.idle) this.endIdleTask(c);
    for (const hook of this.bootHooks) hook(cpu);
    c.dead = false;
    c.online = true;
    c.bootedOnce = true;
    this.onlineMask.set(cpu);
    if (this.started) this.scheduleResume(c, this.now);
  }

  // ---------------------------------------------------------------- the run loop

  /**
   * Run until every program has finished and no event that could make progress is pending,
   * until no CPU can make progress (deadlock), or until the event limit. Can be called again
   * after spawning more programs.
   */
  run(options: RunOptions = {}): RunOutcome {
    if (this.crashed !== null)
      throw new SimulationError(
        `this machine stopped at t=${this.now} ns because ${this.crashed.message.split("\n")[0]}; build a new one`,
      );
    checkObject("run options", options);
    const maxEvents = options.maxEvents ?? Number.POSITIVE_INFINITY;
    if (typeof maxEvents !== "number" || !(maxEvents >= 1))
      throw new InvalidArgumentError(`maxEvents must be a number >= 1, got ${describeValue(maxEvents)}`);
    if (options.onProgress !== undefined) checkFunction("onProgress", options.onProgress);
    if (options.progressEvery !== undefined)
      checkInteger("progressEvery", options.progressEvery, 1, Number.MAX_SAFE_INTEGER);
    try {
      return this.runLoop(options, maxEvents);
    } catch (e) {
      throw this.stopBy(e);
    }
  }

  /** Turn what escaped CPU code into the error the run stops with (foreign exceptions get the CPU and time). */
  private stopBy(e: unknown): unknown {
    let err: unknown = e;
    if (!(e instanceof SmpcallError) && this.cpus.length !== this.nrCpus) {
      // Code running on the machine wrote the read-only CPU array: what broke next is not the cause.
      const culprit = `${this.handlerOwner} or a program`;
      err = new InvalidStepError(
        `machine.cpus was changed during the run (its length is ${describeValue(this.cpus.length)}, not ${this.nrCpus}) by ${culprit}: the array is read-only to backends and programs (PORTING.md, "CPU state a backend may read") (t=${this.now} ns)`,
        -1,
        this.cpus.length,
        culprit,
      );
    } else if (!(e instanceof SmpcallError) && this.dispatching !== -2) {
      const c = this.dispatching >= 0 ? this.cpus[this.dispatching] : null;
      const culprit = this.describeCode(c);
      err = new UserCodeError(
        `${culprit} threw ${describeThrown(e)} (t=${this.now} ns)`,
        c ? c.id : -1,
        culprit,
        {
          cause: e,
        },
      );
    }
    if (err instanceof Error && !(err instanceof SmpcallError && err.code === "SMPCALL_CONTROL"))
      this.crashed = err;
    this.dispatching = -2;
    return err;
  }

  private runLoop(options: RunOptions, maxEvents: number): RunOutcome {
    const problemsBefore = this.problems.length;
    this.start();
    let events = 0;
    const heap = this.heap;
    const fast = this.chooser.earliestFirst;
    const onProgress = options.onProgress;
    const every = options.progressEvery ?? 65536;
    let nextProgress = onProgress ? every : Number.POSITIVE_INFINITY;
    for (;;) {
      if (events >= nextProgress) {
        nextProgress += every;
        onProgress!(events, this);
      }
      if (this.panickedFlag) return this.finishPanic(events, problemsBefore);
      if (this.progressCount === 0) {
        if (this.programsRunning === 0) break;
        if (!this.stalled) {
          this.stalled = true;
          this.stallEpoch++;
          this.stallTime = this.now;
        }
        if (heap.size === 0) return this.finishDeadlock(events, problemsBefore);
      }
      if (this.fastForwardSteps !== 0) {
        events += this.fastForwardSteps;
        this.eventsDispatched += this.fastForwardSteps;
        this.fastForwardSteps = 0;
      }
      if (events >= maxEvents) {
        this.reportProblem({
          kind: "step-limit",
          time: this.now,
          message: `step limit of ${maxEvents} events reached with ${this.programsRunning} program(s) unfinished: livelock or a run too long for the limit${options.limitHint ? ` (${options.limitHint})` : ""}; ${this.describeActivity()}`,
        });
        return this.outcome("step-limit", events, problemsBefore);
      }
      let id: number;
      if (fast) {
        id = heap.pop();
      } else {
        this.purgeCancelled();
        if (heap.size === 0) continue;
        const i = this.chooser.pickEvent(heap);
        if (!(i >= 0 && i < heap.size))
          throw new SimulationError(`chooser ${this.chooser.name} picked event ${i} of ${heap.size}`);
        id = heap.removeAt(i);
      }
      const kind = heap.kind(id);
      // The event queue keeps times in a Float64Array, whose loads V8 hands out as boxed doubles
      // (HeapNumbers) even when integral; stored into the clock, a box makes every time derived
      // from it a double, and the CPU objects' time fields (resumeAt, busyNs, wait starts) boxes
      // of their own: one more cache line per CPU visit on a big machine. A time that fits in a
      // small integer is made one here (same value); larger ones stay doubles.
      const t0 = heap.time(id);
      const t = (t0 | 0) === t0 ? t0 | 0 : t0;
      const cpu = heap.cpu(id);
      const arg = heap.arg(id);
      const seq = heap.seq(id);
      heap.release(id);
      // Warm the next event's CPU: on a big machine each event's CPU object is a cache miss (8192
      // CPUs visited in random order); loading it now lets that miss overlap this event's work.
      const next = heap.peek();
      if (next >= 0) {
        const nc = heap.cpu(next);
        if (nc >= 0) this.warmed = this.cpus[nc].pendingLines;
      }
      if (kind === EV_CANCELLED) continue;
      this.dispatching = kind === EV_CALLBACK ? -1 : cpu;
      if (kind !== EV_WATCHDOG) this.progressCount--;
      if (t > this.now) this.now = t;
      events++;
      this.eventsDispatched++;
      switch (kind) {
        case EV_CPU_RESUME: {
          const c = this.cpus[cpu];
          c.resumeEvent = -1;
          this.stepCpu(c);
          break;
        }
        case EV_IRQ_RAISE:
          this.deliver(this.cpus[cpu], arg, seq + 1);
          break;
        case EV_CALLBACK: {
          const fn = this.callbacks[arg]!;
          this.callbacks[arg] = undefined;
          this.freeCallbackSlots.push(arg);
          fn();
          break;
        }
        case EV_WATCHDOG:
          this.fireWatchdog(this.cpus[cpu]);
          break;
      }
      this.dispatching = -2;
    }
    for (const check of this.endOfRunChecks) for (const p of check()) this.reportProblem(p);
    return this.outcome("completed", events, problemsBefore);
  }

  private finishPanic(events: number, problemsBefore: number): RunOutcome {
    for (const check of this.endOfRunChecks) for (const p of check()) this.reportProblem(p);
    return this.outcome("panic", events, problemsBefore);
  }

  private outcome(
    status: RunStatus,
    events: number,
    problemsBefore: number,
    deadlock?: DeadlockReport,
  ): RunOutcome {
    return { status, timeNs: this.now, events, deadlock, problems: this.problems.slice(problemsBefore) };
  }

  private start(): void {
    if (this.started) return;
    this.started = true;
    for (const c of this.cpus) if (!c.dead) this.scheduleResume(c, 0);
  }

  private push(time: number, kind: number, cpu: number, arg: number): number {
    if (kind !== EV_WATCHDOG) this.progressCount++;
    return this.heap.push(time, kind, cpu, arg);
  }

  private purgeCancelled(): void {
    const heap = this.heap;
    for (let i = heap.size - 1; i >= 0; i--) {
      const id = heap.idAt(i);
      if (heap.kind(id) === EV_CANCELLED) heap.release(heap.removeAt(i));
    }
  }

  private scheduleResume(c: Cpu, t: number): void {
    if (c.resumeEvent >= 0) {
      if (c.resumeAt <= t) return;
      this.heap.cancel(c.resumeEvent);
      this.progressCount--;
    }
    c.resumeAt = t;
    c.resumeEvent = this.push(t, EV_CPU_RESUME, c.id, 0);
  }

  private deliver(c: Cpu, line: number, flow: number): void {
    const bit = 1 << line;
    c.raisesReceived++;
    if ((this.countingLines & bit) !== 0) this.lineCounts![(c.id << 5) | line]++;
    if ((c.pendingLines & bit) !== 0) {
      if ((this.countingLines & bit) !== 0) return; // kept, not merged: taken on its own later
      c.raisesMerged++;
      return;
    }
    c.pendingLines |= bit;
    // Only the trace reads it (IPI arrows); untraced, one cache line per raise less on big machines.
    if (this.trace.enabled) this.pendingFlow[(c.id << 5) | line] = flow;
    if (c.dead || c.resumeEvent >= 0) return;
    if (c.irqsDisabled && (bit & this.takeableLines(c)) === 0) return;
    if (c.topWait !== null)
      this.scheduleResume(
        c,
        this.now + (c.topWaitHalts ? (c.idleExitNs >= 0 ? c.idleExitNs : this.cost.haltExitNs) : 0),
      );
  }

  private fireWatchdog(c: Cpu): void {
    c.watchdogArmedAt = 0;
    const w = c.waiting;
    if (w === null || !w.isCsdWait || c.watchdogDeadline === 0 || c.dead) return;
    if (this.now < c.watchdogDeadline) {
      this.armWatchdog(c);
      return;
    }
    if (this.progressCount === 0 && this.stalled) {
      if (this.watchdogFiredEpoch[c.id] === this.stallEpoch) return;
      this.watchdogFiredEpoch[c.id] = this.stallEpoch;
    }
    if (c.resumeEvent < 0) this.scheduleResume(c, this.now);
  }

  private armWatchdog(c: Cpu): void {
    const d = c.watchdogDeadline;
    if (d === 0 || (c.watchdogArmedAt !== 0 && c.watchdogArmedAt <= d)) return;
    c.watchdogArmedAt = d;
    this.push(d, EV_WATCHDOG, c.id, 0);
  }

  private checkCpuLine(what: string, cpu: number, line: number): void {
    if (!(typeof cpu === "number" && Number.isInteger(cpu) && cpu >= 0 && cpu < this.nrCpus))
      this.refuse(`asked ${what} of CPU`, cpu, `which does not exist (0..${this.nrCpus - 1})`);
    if (!(typeof line === "number" && Number.isInteger(line) && line >= 0 && line < 32))
      this.refuse(`asked ${what} of line`, line, "which does not exist (lines are 0..31)");
  }

  /** Whose code is running on `c` now, for messages: the program, a backend call or handler, a callback. */
  describeCode(c: Cpu | null): string {
    if (c === null) return `a hardware callback of ${this.handlerOwner}`;
    const call = c.codeLabel;
    if (c.depth === 0) return `code on CPU ${c.id}`;
    const top = c.depth - 1;
    const kind = c.frameKind(top);
    if (call !== null && c.codeLabelDepth === c.depth)
      return call === "callback"
        ? `callback ${c.codeCallback?.name || "(anonymous)"} on CPU ${c.id}`
        : `${call} on CPU ${c.id}`;
    if (kind === FRAME_IRQ) {
      const line = c.frameLine(top);
      return `${this.handlerOwner} in handleInterrupt (line ${line}) on CPU ${c.id}`;
    }
    if (kind === FRAME_TASK) return `the program on CPU ${c.id}`;
    if (kind === FRAME_IDLE) return `the idle loop on CPU ${c.id}`;
    return `stop_machine on CPU ${c.id}`;
  }

  /** Where the CPUs are, for a step-limit message: those in interrupt handlers first, then the rest. */
  private describeActivity(): string {
    const inIrq: string[] = [];
    let busy = 0;
    let irqs = 0;
    for (const c of this.cpus) {
      if (c.dead || c.depth === 0) continue;
      const top = c.depth - 1;
      if (c.hardirqDepth > 0) {
        irqs++;
        if (inIrq.length < 4)
          inIrq.push(`CPU ${c.id} in ${this.handlerOwner}'s handleInterrupt (line ${c.frameLine(top)})`);
      } else if (c.frameKind(top) !== FRAME_IDLE) busy++;
    }
    const parts: string[] = [];
    if (irqs > 0)
      parts.push(`${inIrq.join(", ")}${irqs > inIrq.length ? ` and ${irqs - inIrq.length} more` : ""}`);
    parts.push(`${busy} CPU(s) in task code`);
    return `at t=${this.now} ns: ${parts.join("; ")}`;
  }

  /** Stop the run: the running code gave a value the machine cannot use. */
  private refuse(what: string, value: unknown, why: string): never {
    const c = this.current >= 0 ? this.cpus[this.current] : null;
    const culprit = this.describeCode(c);
    throw new InvalidStepError(
      `${culprit} ${what} ${describeValue(value)}${why.startsWith(":") || why.startsWith(",") || why.startsWith(";") ? "" : " "}${why} (t=${this.now} ns)`,
      c === null ? -1 : c.id,
      value,
      culprit,
    );
  }

  // ---------------------------------------------------------------- stepping a CPU

  private pushFrame(c: Cpu, code: CpuCode<unknown>, kind: number, line: number): void {
    c.pushFrame(code, kind, line);
  }

  private stepCpu(c: Cpu): void {
    const prev = this.current;
    this.current = c.id;
    this.fastRun = 0;
    try {
      if (c.dead) return;
      for (;;) {
        const n = c.depth;
        if (n === 0) {
          this.startNext(c);
          continue;
        }
        const stop = this.stopActive;
        if (stop !== null && !stop.done && this.captureForStop(c, stop)) continue;
        if (c.pendingLines !== 0 && (!c.irqsDisabled || this.takeableLines(c) !== 0)) {
          const entry = this.enterInterrupt(c);
          if (this.advance(c, entry, this.fastRun++)) continue;
          return;
        }
        const top = n - 1;
        const w = c.topWait;
        if (w !== null) {
          const still = w.blocked(c.id);
          if (still && !(w.isCsdWait && c.watchdogDeadline !== 0 && this.now >= c.watchdogDeadline)) {
            w.addWaiter(c.id);
            if (w.isCsdWait) this.armWatchdog(c);
            return;
          }
          this.endWait(c, top, !still);
        }
        const r = c.topCode!.next();
        if (r.done === true) {
          const exit = this.popFrame(c);
          if (exit < 0) return;
          if (exit === 0 || this.advance(c, exit, this.fastRun++)) continue;
          return;
        }
        const v = r.value;
        if (typeof v === "number") {
          // One comparison pair refuses NaN, negative and infinite costs alike.
          if (!(v >= 0 && v <= MAX_STEP_NS)) this.badStep(c, v);
          if (v > 0) c.busyNs += v;
          if (this.advance(c, v, this.fastRun++)) continue;
          return;
        }
        if (typeof v !== "object" || v === null || typeof v.blocked !== "function") this.badStep(c, v);
        if (!v.blocked(c.id)) continue;
        c.setFrameWait(top, v, this.now);
        c.topWait = v;
        c.topWaitHalts = v.wakesOnInterrupt;
        if (this.trace.enabled && v.isCsdWait)
          this.emit(c, "smpcall_csd_wait_begin", { waits_for: v.describe(), holder: v.holderCpu() });
      }
    } finally {
      this.current = prev;
    }
  }

  /** A step that is neither a cost in ns nor a Wait: stop the run naming the code, the CPU and the value. */
  private badStep(c: Cpu, v: unknown): never {
    const culprit = this.describeCode(c);
    const what =
      typeof v === "number"
        ? `a step cost must be a number of ns 0..${MAX_STEP_NS}`
        : "yield a number of ns or a Wait (for kernel calls use yield*, not yield)";
    throw new InvalidStepError(
      `${culprit} yielded ${describeValue(v)}: ${what} (t=${this.now} ns)`,
      c.id,
      v,
      culprit,
    );
  }

  /**
   * The running CPU spends `ns`. Earliest-first fast path: when that ends before any pending
   * event, no other CPU or interrupt could act in between, so the clock moves and the CPU keeps
   * stepping (returns true) without a heap round-trip; bounded, and counted as events so step
   * limits still apply. Otherwise its resume is scheduled (returns false).
   */
  private advance(c: Cpu, ns: number, ff: number): boolean {
    const t = this.now + ns;
    if (this.fastForward && ff < FAST_FORWARD_LIMIT && c.resumeEvent < 0 && !this.panickedFlag) {
      if (this.heap.peekTime() > t) {
        this.now = t;
        this.fastForwardSteps++;
        return true;
      }
    }
    this.scheduleResume(c, t);
    return false;
  }

  /**
   * For CPU code on a hot path: spend `ns` right here, as `yield ns` would, when the fast path
   * allows it (earliest-first chooser, the step ends before any pending event, no interrupt is
   * waiting to be taken, within the fast-path run limit): the clock moves, the step counts as an
   * event, and the code goes on without a generator round-trip. Returns false otherwise, and the
   * caller yields `ns` as usual. Same clock, same events, same order either way.
   */
  spendInline(ns: number): boolean {
    const c = this.cpus[this.current];
    if (c.pendingLines !== 0 && (!c.irqsDisabled || this.takeableLines(c) !== 0)) return false;
    const t = this.now + ns;
    if (!this.fastForward || this.fastRun >= FAST_FORWARD_LIMIT || c.resumeEvent >= 0 || this.panickedFlag)
      return false;
    if (this.heap.peekTime() <= t) return false;
    this.fastRun++;
    if (ns > 0) c.busyNs += ns;
    this.now = t;
    this.fastForwardSteps++;
    return true;
  }

  private startNext(c: Cpu): void {
    const q = this.queuedPrograms[c.id];
    if (q !== undefined && q.length > 0) {
      c.programsQueued--;
      this.pushFrame(c, q.shift()!, FRAME_TASK, -1);
      c.programRunning = true;
      return;
    }
    c.idle = true;
    if (this.onQuiescent !== null) this.onQuiescent(c.id);
    this.pushFrame(c, this.idleTask(c.id), FRAME_IDLE, -1);
  }

  /** End the wait of frame `top`; `satisfied` is false when only the watchdog deadline ended it. */
  /**
   * Is frame `i`'s wait `w` a halt (an interrupt ends it; its time is not spin time)? The
   * innermost frame's answer is kept on the CPU (`topWaitHalts`), a deeper one asks the wait.
   */
  private frameWaitHalts(c: Cpu, i: number, w: Wait): boolean {
    return i === c.depth - 1 ? c.topWaitHalts : w.wakesOnInterrupt;
  }

  private endWait(c: Cpu, top: number, satisfied: boolean): void {
    const w = c.frameWait(top)!;
    const since = c.frameWaitSince(top);
    c.setFrameWait(top, null, since);
    const halts = this.frameWaitHalts(c, top, w);
    if (top === c.depth - 1) {
      c.topWait = null;
      c.topWaitHalts = false;
    }
    // A busy wait is a step whose length hardware decides: its end is no more progress than a step's.
    if (w.countsAsBusy === true) {
      c.busyNs += this.now - since;
      return;
    }
    if (!halts) {
      c.spinNs += this.now - since;
      if (this.trace.enabled && w.isCsdWait)
        this.emit(c, "smpcall_csd_wait_end", { waits_for: w.describe(), waited_ns: this.now - since });
    }
    if (satisfied && !c.inWatchdogResend) this.stalled = false;
  }

  /** Pop the innermost frame; returns the ns the return costs (irq exit), or -1 when the CPU stops. */
  private popFrame(c: Cpu): number {
    const top = c.depth - 1;
    const kind = c.frameKind(top);
    const saved = c.frameSavedIrqs(top);
    const line = c.frameLine(top);
    c.dropFrame();
    switch (kind) {
      case FRAME_IRQ:
        if (this.trace.enabled) this.emit(c, "ipi_exit", { reason: this.lineNamer(line) });
        if (c.trapsHeld)
          throw new InvalidStepError(
            `${this.handlerOwner}: handleInterrupt(${c.id}, ${line}) returned with traps held (holdTraps(true) without holdTraps(false), t=${this.now} ns): release them before the receive path returns (the CPU would never take a trap line again)`,
            c.id,
            line,
            `${this.handlerOwner} (interrupt handler, line ${line})`,
          );
        c.hardirqDepth--;
        c.irqsDisabled = saved;
        if (!saved && c.hardirqDepth === 0 && this.onQuiescent !== null) this.onQuiescent(c.id);
        c.busyNs += this.cost.irqExitNs;
        return this.cost.irqExitNs;
      case FRAME_TASK:
        c.programRunning = false;
        this.programsRunning--;
        this.stalled = false;
        return 0;
      case FRAME_IDLE:
        c.idle = false;
        c.polling = false;
        c.idleExitNs = -1;
        c.pollingEndsOnWake = false;
        return 0;
      default:
        c.irqsDisabled = saved;
        return c.dead ? -1 : 0;
    }
  }

  /** Take the lowest pending line: push the arch handler frame; returns the entry cost (ns). */
  private enterInterrupt(c: Cpu): number {
    const pending = this.takeableLines(c);
    const line = 31 - Math.clz32(pending & -pending);
    if ((this.countingLines & (1 << line)) === 0 || --this.lineCounts![(c.id << 5) | line] === 0)
      c.pendingLines &= ~(1 << line);
    const top = c.depth - 1;
    const cost = this.cost.irqEntryNs;
    if (c.topWaitHalts) {
      this.endWait(c, top, true);
      if (c.pollingEndsOnWake) {
        c.polling = false;
        this.idleFlagHooks?.pollingCleared(c.id);
      }
    }
    if (this.interruptHandler === null)
      throw new SimulationError(
        `CPU ${c.id} took interrupt line ${line} but no arch interrupt handler is installed`,
      );
    const handler = this.interruptHandler(c.id, line);
    if (!isGenerator(handler))
      throw new InvalidStepError(
        `${this.handlerOwner}: handleInterrupt(${c.id}, ${line}) returned ${describeValue(handler)}, not a generator: write it as *handleInterrupt(cpu, line) { ... } (t=${this.now} ns)`,
        c.id,
        handler,
        this.handlerOwner,
      );
    this.pushFrame(c, handler, FRAME_IRQ, line);
    c.irqsDisabled = true;
    c.hardirqDepth++;
    c.irqsTaken++;
    if (this.trace.enabled) {
      const slot = (c.id << 5) | line;
      this.emit(c, "ipi_entry", { reason: this.lineNamer(line) }, this.pendingFlow[slot]);
      // A counting line's later interrupts are not drawn from the first raise's arrow.
      if ((c.pendingLines & (1 << line)) !== 0) this.pendingFlow[slot] = 0;
    }
    c.busyNs += cost;
    return cost;
  }

  private emit(c: Cpu, name: string, fields: Record<string, string | number>, flow = 0): void {
    this.trace.emit(this.now, c.id, c, name, fields, flow);
  }

  // ---------------------------------------------------------------- deadlock

  private finishDeadlock(events: number, problemsBefore: number): RunOutcome {
    const blocked: BlockedCpu[] = [];
    for (const c of this.cpus) {
      if (c.dead) continue;
      for (let i = c.depth - 1; i >= 0; i--) {
        const w = c.frameWait(i);
        if (w === null || w.wakesOnInterrupt) continue;
        blocked.push(describeBlocked(c, w, this.now - c.frameWaitSince(i), this.lineNamer));
        break;
      }
    }
    const cycle = findWaitCycle(blocked);
    const lines = blocked.map(
      (b) =>
        `  CPU ${b.cpu} (irqs ${b.irqsDisabled ? "off" : "on"}${b.hardirq > 0 ? ", in hard IRQ" : ""}) spins on ${b.waitsFor}${b.holder >= 0 ? ` -> needs CPU ${b.holder}` : ""}, for ${b.waitedNs} ns${b.pending ? `, pending: ${b.pending}` : ""}`,
    );
    const cycleText = cycle
      ? `wait-for cycle: ${[...cycle, cycle[0]].map((x) => `CPU ${x}`).join(" -> ")}`
      : "no wait-for cycle (a CPU waits on one that will never act: lost interrupt or unfinished work)";
    const message = `deadlock: no CPU can make progress since t=${this.stallTime} ns; ${cycleText}\n${lines.join("\n")}`;
    const report: DeadlockReport = {
      stalledAt: this.stallTime,
      detectedAt: this.now,
      cpus: blocked,
      cycle,
      message,
    };
    this.reportProblem({
      kind: "deadlock",
      time: this.stallTime,
      message,
      cpu: cycle ? cycle[0] : blocked[0]?.cpu,
    });
    return this.outcome("deadlock", events, problemsBefore, report);
  }
}

/** A set of lines as a mask (bit n = line n): an integer 0..2^32-1; throws naming the API otherwise. */
function checkLineMask(api: string, mask: unknown): number {
  if (typeof mask !== "number" || !Number.isInteger(mask) || mask < 0 || mask > 0xffffffff)
    throw new InvalidArgumentError(
      `${api}: the line mask must be an integer 0..4294967295 (bit n = line n), got ${describeValue(mask)}`,
    );
  return mask >>> 0;
}

const IDLE_STATE: TraceCpuState = { irqsDisabled: false, hardirqDepth: 0, idle: true };

function describeBlocked(c: Cpu, w: Wait, waitedNs: number, lineName: (l: number) => string): BlockedCpu {
  const pending: string[] = [];
  for (let l = 0; l < 32; l++) if ((c.pendingLines & (1 << l)) !== 0) pending.push(lineName(l));
  return {
    cpu: c.id,
    waitsFor: w.describe(),
    holder: w.holderCpu(),
    irqsDisabled: c.irqsDisabled,
    hardirq: c.hardirqDepth,
    waitedNs,
    pending: pending.join(", "),
  };
}

/** Without a kernel: an idle loop that halts until it has a program to run. */
function defaultIdleTask(machine: Machine): (cpu: number) => CpuCode<void> {
  return function* idle(cpu: number): CpuCode<void> {
    const halt = new (class extends HaltWaitBase {})(machine, cpu);
    while (!machine.hasQueuedProgram(cpu)) yield halt;
  };
}

/** Halt until an interrupt is taken or a program is queued for this CPU. */
export class HaltWaitBase implements Wait {
  readonly wakesOnInterrupt = true;
  readonly isCsdWait = false;
  constructor(
    protected readonly machine: Machine,
    protected readonly cpu: number,
  ) {}
  blocked(): boolean {
    return !this.machine.hasQueuedProgram(this.cpu);
  }
  addWaiter(): void {}
  describe(): string {
    return `halt on CPU ${this.cpu}`;
  }
  holderCpu(): number {
    return -1;
  }
}

/** A call waiting in the stop_machine queue (see `Machine.afterStops`). */
interface AfterStops {
  readonly fn: () => void;
  readonly what: string;
}

/** `CPUs 0,2` (`CPUs none` when empty), as a state key writes a CPU list. */
function cpuList(cpus: readonly number[]): string {
  return cpus.length === 0 ? "CPUs none" : `CPUs ${[...cpus].sort((a, b) => a - b).join(",")}`;
}
