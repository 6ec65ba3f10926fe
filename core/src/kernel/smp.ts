import type { ArchIpi, ArchWarning, ArchWarnings, SmpHandlers } from "../arch/arch-ipi";
import {
  EINVAL,
  ENXIO,
  EBUSY,
  InvalidArgumentError,
  InvalidStepError,
  UsageError,
  describeValue,
} from "../errors";
import type { Cpu } from "../machine/cpu";
import { CpuMask } from "../machine/cpumask";
import type { Machine } from "../machine/machine";
import type { RunProblem } from "../machine/problems";
import type { CpuCode, Step } from "../machine/step";
import { CallCompletion } from "./call-completion";
import { CallSingleQueue } from "./call-single-queue";
import {
  CallSingleData,
  CsdTimes,
  CSD_FLAG_LOCK,
  CSD_FLAG_TYPE_MASK,
  CSD_TYPE_ASYNC,
  CSD_TYPE_SYNC,
  CSD_TYPE_IRQ_WORK,
  CSD_TYPE_TTWU,
  funcName,
  type SmpCallFunc,
  type SmpCondFunc,
} from "./csd";
import { KernelMemory } from "./kernel-memory";
import type { MemoryModelName } from "../memory/model";
import { IdleLoop, type IdleLoopConfig, type IdleMode } from "./idle-loop";
import { WakeTask } from "./queue-entries";
import { checkCond, checkCpuId, checkCsd, checkFunc, checkMask, checkWait } from "./api-checks";
import { kernelProfile, type KernelProfile, type KernelProfileName, type WarnSiteId } from "./profile";
import { CsdLockWatchdog, type StuckCsdReport } from "./csd-watchdog";
import { KernelStats } from "./stats";
import { WarningLog, warnSplat } from "./warnings";
import { isGenerator } from "../validate";

/** `smp_call_function_many_cond` flag: wait until every callback has returned. */
export const SCF_WAIT = 1 << 0;
/** `smp_call_function_many_cond` flag: also run the callback on the calling CPU if it is in the mask. */
export const SCF_RUN_LOCAL = 1 << 1;

/** Kernel configuration of a machine. */
export interface KernelOptions {
  /**
   * Which kernel to behave as, where releases differ (kernel-smp.md §9b): "6.1" (the default,
   * the release checked against a live kernel) or "mainline".
   */
  kernel?: KernelProfileName;
  /**
   * CONFIG_LOCKDEP (PROVE_LOCKING): lockdep's assertions fire, e.g. the irqs-enabled assertion of
   * `_many_cond`. Default off, as in distribution kernels.
   */
  lockdep?: boolean;
  /**
   * CONFIG_CSD_LOCK_WAIT_DEBUG with `csdlock_debug=1`: the lock-wait watchdog (reports, IPI
   * re-send). Default on. Distribution kernels build without it: a csd whose IPI is lost is then
   * waited on forever and the run ends in a deadlock or step-limit report.
   */
  csdLockWaitDebug?: boolean;
  /**
   * How idle CPUs sleep (see {@link IdleMode}): `halt` (polling only between halts), `mwait`
   * (polling during the sleep too) or `poll` (always polling). Default "halt".
   */
  idle?: IdleMode;
  /** CSD lock-wait watchdog timeout in ms (`smp.csd_lock_timeout`), 0 = off. Default 5000. */
  csdLockTimeoutMs?: number;
  /** Re-send the IPI when the watchdog fires, as the kernel does. Default true. */
  watchdogResendIpi?: boolean;
  /**
   * Memory model of the kernel's shared state (docs/memory-model.md): `sc` (default: every
   * access visible at once), `tso` (store buffers) or `lkmm` (per-location histories and views).
   */
  memory?: MemoryModelName;
  /** Barriers to remove for an experiment, by name (see `KERNEL_BARRIERS`); unknown names are refused. */
  dropBarriers?: readonly string[];
}

/** Per-CPU call_function_data: the per-target csds of this CPU's many-calls and two masks. */
class CallFunctionData {
  /** One csd per target CPU, created on first use. */
  readonly csd: (CallSingleData | undefined)[] = [];
  /** Targets of the current many-call. */
  readonly cpumask: CpuMask;
  /** Targets whose queue was empty (they need an IPI). */
  readonly cpumaskIpi: CpuMask;
  /** What a waiting call spins on: its SYNC csds, counted down as they unlock. */
  readonly completion = new CallCompletion();
  constructor(nrCpus: number) {
    this.cpumask = new CpuMask(nrCpus);
    this.cpumaskIpi = new CpuMask(nrCpus);
  }
}

function isCpuCode(x: unknown): x is CpuCode<void> {
  return (
    typeof x === "object" &&
    x !== null &&
    typeof (x as Generator).next === "function" &&
    typeof (x as Generator)[Symbol.iterator] === "function"
  );
}

function doNothing(): void {}

/**
 * The result a finished hand-driven iterator (many-call loop, queue flush) gives: one shared
 * object, never written (callers only read `done`), instead of a new one per call.
 */
const ITER_DONE: IteratorReturnResult<void> = { done: true, value: undefined };

/** States of a many-call (SmpKernel.ManyCall): not started, at a target, after a yielded target step, after a csd lock wait, done. */
const MANY_START = 0;
const MANY_LOOP = 1;
const MANY_NEXT = 2;
const MANY_QUEUE = 3;
const MANY_DONE = 4;
/** States of a queue flush (SmpKernel.QueueFlush): not started, pass 1 (SYNC), pass 2 (the rest), done. */
const FLUSH_START = 0;
const FLUSH_SYNC = 1;
const FLUSH_REST = 2;
const FLUSH_DONE = 3;
/** What finishes the callback of a flush step: nothing, callbackEnd then csdUnlock (SYNC), callbackEnd (ASYNC). */
const FLUSH_AFTER_NONE = 0;
const FLUSH_AFTER_SYNC = 1;
const FLUSH_AFTER_ASYNC = 2;
/**
 * The result every queue flush yields its own steps in, shared by all flushes (as the idle loop's):
 * whoever calls a flush's `next` reads the result before any code's next call, and one shared
 * object stays in cache where one per flush is one more line per interrupt on a big machine.
 */
const FLUSH_STEP: IteratorYieldResult<Step> = { done: false, value: 0 };

/**
 * kernel/smp.c on the simulated machine. Every API that runs on a CPU is a generator to be
 * driven with `yield*` from CPU code; the calling CPU is `machine.smpProcessorId()`, as in the
 * kernel. Return values are 0 or a negated errno (-ENXIO, -EBUSY).
 */
export class SmpKernel implements SmpHandlers, ArchWarnings {
  readonly stats: KernelStats;
  readonly warnings: WarningLog;
  /** The kernel release this kernel behaves as. */
  readonly profile: KernelProfile;
  /** CONFIG_LOCKDEP: lockdep assertions fire. */
  readonly lockdep: boolean;
  /** The per-CPU lock-less call queues. */
  readonly callSingleQueue: CallSingleQueue;
  /**
   * Finished queue flushes, reused by the next one on any CPU (the one freed last, still in
   * cache). A broadcast to 8192 CPUs keeps thousands of flushes in flight at once: one object per
   * interrupt outlived young collections and was most of what a target allocated.
   */
  private readonly freeFlushes: InstanceType<(typeof SmpKernel)["QueueFlush"]>[] = [];
  /** The CSD lock-wait watchdog (CONFIG_CSD_LOCK_WAIT_DEBUG); its timeout is 0 when it is off. */
  readonly csdWatchdog: CsdLockWatchdog;
  /**
   * Finished queue flushes kept for reuse (diagnostics): never more than the most flushes that
   * were ever in progress at once, however many interrupts were taken.
   */
  get idleQueueFlushes(): number {
    return this.freeFlushes.length;
  }
  /** CSD waits the watchdog reported, in order. */
  get stuckCsds(): StuckCsdReport[] {
    return this.csdWatchdog.reports;
  }
  /** Called after a csd is added to `cpu`'s queue (for policies that poll their own queue); null = none. */
  onQueueAdd: ((cpu: number) => void) | null = null;
  /** Takes over the call-function IPI handlers (the explorer's 2008 design does); null = this kernel's. */
  receiveOverride: SmpHandlers | null = null;
  private arch: ArchIpi | null = null;
  /** The backend as messages name it: `backend generic`, with its module path when loaded from one. */
  // Stryker disable next-line StringLiteral: equivalent, attachArch sets it before any send can read it
  private archName = "the arch backend";
  private readonly cfdData: (CallFunctionData | undefined)[];
  private readonly csdData: (CallSingleData | undefined)[];
  private readonly stackCsds: CallSingleData[][];
  /** Per CPU: its idle task, which is also what it sleeps on (see {@link IdleLoop}). */
  private readonly idleWaits: IdleLoop[];
  private nextCsdId = 1;
  /** When each csd of this kernel was queued and unlocked (by csd id). */
  private readonly csdTimes = new CsdTimes();
  /** Per CPU: online once the hotplug requests made so far are served (built on first use). */
  private hotplugWill: Uint8Array | null = null;
  /**
   * Per CPU: 1 from its `cpuDown` request until it is back online, the scheduler's `!cpu_active`
   * (6.1 clears the active bit in sched_cpu_deactivate, the first step of cpu_down, long before
   * stop_machine; sched_cpu_activate sets it again once the CPU is up). Built on first use.
   */
  private hotplugInactive: Uint8Array | null = null;
  /** How idle CPUs sleep. */
  readonly idleMode: IdleMode;
  private readonly perTargetNs: number;
  /** The kernel's shared state under the run's memory model; scenario data lives here too. */
  readonly memory: KernelMemory;
  /** Not `sc`: the hooks into {@link memory} run (tested once per access site; sc pays nothing else). */
  private readonly weak: boolean;
  /** `cur_csd` per CPU (the watchdog's), written around every queued callback. */
  private readonly curCsd: (CallSingleData | null)[];
  /**
   * The watchdog is on, so `cur_csd` is kept (in the kernel, too, it is recorded only with the
   * lock-wait debugging on); without it nothing reads it, and a big machine saves a cache line
   * per callback.
   */
  private readonly trackCurCsd: boolean;

  /**
   * @param sendFence the backend's send-side fence by name (`ArchDescriptor.ipiSendFence`), or null
   * @param idlePollingFlag the architecture has TIF_POLLING_NRFLAG (`ArchDescriptor.idlePollingFlag`)
   */
  constructor(
    readonly machine: Machine,
    options: KernelOptions = {},
    sendFence: string | null = null,
    private readonly idlePollingFlag = true,
  ) {
    const n = machine.nrCpus;
    this.stats = new KernelStats(machine.cpus);
    this.warnings = new WarningLog(machine.trace);
    this.callSingleQueue = new CallSingleQueue(n);
    // Stryker disable next-line ArrayDeclaration: equivalent, a preset length only sizes the array up front
    this.cfdData = new Array<CallFunctionData | undefined>(n);
    // Stryker disable next-line ArrayDeclaration: equivalent, as above
    this.csdData = new Array<CallSingleData | undefined>(n);
    this.stackCsds = Array.from({ length: n }, () => []);
    this.idleMode = options.idle ?? "halt";
    this.profile = kernelProfile(options.kernel);
    this.lockdep = options.lockdep ?? false;
    const timeoutMs = (options.csdLockWaitDebug ?? true) ? (options.csdLockTimeoutMs ?? 5000) : 0;
    if (!(Number.isFinite(timeoutMs) && timeoutMs >= 0))
      throw new InvalidArgumentError(
        `csdLockTimeoutMs must be >= 0 (0 = off), got ${describeValue(timeoutMs)}`,
      );
    this.csdWatchdog = new CsdLockWatchdog(
      machine,
      this.profile,
      timeoutMs * 1e6,
      options.watchdogResendIpi ?? true,
      this.stats,
      (cpu) => this.archSendCallFunctionSingleIpi(cpu),
    );
    this.curCsd = this.csdWatchdog.curCsd;
    // Stryker disable next-line ConditionalExpression,EqualityOperator: equivalent, the watchdog, which alone reads curCsd, runs only when its timeout is not 0
    this.trackCurCsd = this.csdWatchdog.timeoutNs > 0;
    const c = machine.cost;
    this.perTargetNs = c.csdLockNs + c.perTargetSetupNs + c.queueAddNs;
    this.memory = new KernelMemory(machine, options.memory ?? "sc", options.dropBarriers ?? [], sendFence);
    this.weak = this.memory.weak;
    const idleConfig: IdleLoopConfig = {
      mode: this.idleMode,
      pollingFlag: this.idlePollingFlag,
      mem: this.weak ? this.memory : null,
      flush: (): CpuCode<void> => this.flushSmpCallFunctionQueue(),
    };
    this.idleWaits = Array.from({ length: n }, (_, i) => new IdleLoop(machine, i, idleConfig));
    if (this.weak)
      machine.idleFlagHooks = {
        pollingCleared: (cpu) => this.memory.idleClrPollingOnWake(cpu),
        needReschedSet: (cpu) => this.memory.idleSetNeedResched(cpu),
      };
    machine.setIdleTask((cpu) => this.idleLoop(cpu));
    machine.addEndOfRunCheck(() => this.checkQueuesEmpty());
  }

  /** Connect the arch backend (done once by the system builder). */
  attachArch(arch: ArchIpi, name = "the arch backend"): void {
    this.arch = arch;
    this.archName = name;
  }

  private get archIpi(): ArchIpi {
    if (this.arch === null)
      throw new UsageError(
        "no arch backend attached to the kernel: build machines with createSmpSystem(), or call kernel.attachArch(backend, name) first",
      );
    return this.arch;
  }

  /** INIT_CSD: a caller-owned csd for `smpCallFunctionSingleAsync`. */
  initCsd<I>(func: SmpCallFunc<I>, info?: I): CallSingleData {
    checkFunc("initCsd", "func", func);
    return new CallSingleData(this.nextCsdId++, "caller", -1, func, info, this.csdTimes);
  }

  // ------------------------------------------------------------------ CSD lock

  /**
   * csd_lock_wait: spin until the csd is unlocked. With the watchdog on, a wait longer than the
   * timeout is reported (waiting CPU, target, callback, how long, what the target does) and the
   * IPI is re-sent, as CONFIG_CSD_LOCK_WAIT_DEBUG does; the report repeats each timeout.
   */
  *csdLockWait(csd: CallSingleData): CpuCode<void> {
    if (csd.locked) yield* this.csdWatchdog.wait(csd, () => (csd.locked ? csd : null));
    if (this.weak) this.memory.csdLockWaitDone(this.machine.current, csd);
  }

  /** csd_lock: wait for the previous use to finish, then take the lock. */
  *csdLock(csd: CallSingleData): CpuCode<void> {
    if (csd.locked || this.weak) yield* this.csdLockWait(csd);
    csd.flags |= CSD_FLAG_LOCK;
    if (this.weak) this.memory.csdLock(this.machine.current, csd);
  }

  /**
   * csd_unlock: warn if it was not locked, then release (store 0) and wake the waiters. 6.1's
   * check is a WARN_ON, a splat at every hit; here, as for the WARN_ON_ONCE sites, the first hit
   * is recorded and the later ones only counted (`WarningRecord.count`).
   */
  csdUnlock(csd: CallSingleData): void {
    if (!csd.locked) {
      const c = this.machine.cpus[Math.max(0, this.machine.current)];
      this.warnAt(
        "csd-unlock-not-locked",
        "csd_unlock:not-locked",
        c,
        `csd_unlock of csd#${csd.id} (${funcName(csd.func)}) that is not locked`,
      );
    }
    const done = csd.completion;
    // Is this the csd a watched many-call waits on right now? (Asked before the unlock.)
    const head = done !== null && done.watcher >= 0 && done.pending > 1 && done.firstLocked() === csd;
    csd.flags = 0;
    csd.unlockedAt = this.machine.now;
    if (this.weak) this.memory.csdUnlock(this.machine.current, csd);
    // Stryker disable next-line ConditionalExpression: equivalent, wake() itself returns when no CPU waits (the test saves a call)
    if (csd.firstWaiter !== -1) this.machine.wake(csd);
    if (done !== null) {
      csd.completion = null;
      if (--done.pending === 0) {
        if (done.firstWaiter !== -1) this.machine.wake(done);
      } else if (head) this.csdWatchdog.onHeadUnlocked(done);
    }
  }

  // ------------------------------------------------------------------ per-CPU data

  private cfd(cpu: number): CallFunctionData {
    return (this.cfdData[cpu] ??= new CallFunctionData(this.machine.nrCpus));
  }

  private cfdCsd(cfd: CallFunctionData, self: number, target: number): CallSingleData {
    return (cfd.csd[target] ??= new CallSingleData(
      this.nextCsdId++,
      "cfd_data",
      self,
      null,
      undefined,
      this.csdTimes,
    ));
  }

  private csdDataOf(cpu: number): CallSingleData {
    return (this.csdData[cpu] ??= new CallSingleData(
      this.nextCsdId++,
      "csd_data",
      cpu,
      null,
      undefined,
      this.csdTimes,
    ));
  }

  /** The on-stack csd of a synchronous single call (one per CPU and nesting depth). */
  private stackCsd(cpu: number, depth: number): CallSingleData {
    const s = this.stackCsds[cpu];
    return (s[depth] ??= new CallSingleData(this.nextCsdId++, "stack", cpu, null, undefined, this.csdTimes));
  }

  // ------------------------------------------------------------------ context checks

  /**
   * Record a warning of kernel site `id` (WARN_ON_ONCE: first hit recorded, later ones counted),
   * with the source location and text the profile's kernel prints (`formatted`: a WARN's own line).
   */
  private warnAt(id: WarnSiteId, site: string, c: Cpu, message: string, formatted?: string): boolean {
    const ws = this.profile.warnSites[id];
    return this.warnings.warnOnce(
      site,
      c.id,
      this.machine.now,
      message,
      c,
      warnSplat(ws.location, ws.function, c.id, c.idle, formatted),
    );
  }

  /**
   * A WARN in arch code (see {@link ArchWarnings}) on the running CPU, into this kernel's warning
   * log: the splat names `file:line` under 6.1, the file alone under mainline (as the generic
   * sites do).
   */
  archWarn(warning: ArchWarning): void {
    const m = this.machine;
    const c = m.cpus[m.current];
    const location = this.profile.name === "6.1" ? `${warning.file}:${warning.line}` : warning.file;
    const splat = warnSplat(location, warning.function, c.id, c.idle, warning.formatted);
    if (warning.once === true) this.warnings.warnOnce(warning.site, c.id, m.now, warning.message, c, splat);
    else this.warnings.warn(warning.site, c.id, m.now, warning.message, c, splat);
  }

  /**
   * The "can deadlock" check of a caller with interrupts disabled on an online CPU (no oops is
   * ever in progress here). `smp_call_function_single` WARNs; `_many_cond` has only a lockdep
   * assertion, silent unless `lockdep` is on.
   */
  private warnIfIrqsDisabled(id: "single-irqs-disabled" | "many-irqs-disabled", site: string, c: Cpu): void {
    if (!(c.online && c.irqsDisabled)) return;
    if (id === "many-irqs-disabled" && !this.lockdep) return;
    this.warnAt(
      id,
      `${site}:irqs-disabled`,
      c,
      `${site} called with interrupts disabled on CPU ${c.id}: can deadlock`,
    );
  }

  /**
   * lockdep_assert_preemption_disabled() of `_many_cond` (its callers must not be preemptible, or
   * a CPU could go down between building the mask and queueing): a lockdep assertion, silent
   * unless `lockdep` is on; it fires when preemption is enabled and interrupts are on.
   */
  private assertPreemptionDisabled(c: Cpu): void {
    if (!this.lockdep || c.preemptCount !== 0 || c.irqsDisabled || !c.inTask) return;
    this.warnAt(
      "many-preemptible",
      "smp_call_function_many_cond:preemptible",
      c,
      `smp_call_function_many_cond called with preemption enabled on CPU ${c.id}: a CPU can go offline under it`,
    );
  }

  /** WARN_ON_ONCE(!in_task()): both entry points, wait or not (an IRQ between queueing and sending, or reuse of the per-CPU csd, can deadlock). */
  private warnIfNotTask(id: "single-not-in-task" | "many-not-in-task", site: string, c: Cpu): void {
    if (c.inTask) return;
    this.warnAt(
      id,
      `${site}:not-in-task`,
      c,
      `${site} called from hard-IRQ context on CPU ${c.id}: can deadlock`,
    );
  }

  // ------------------------------------------------------------------ send path

  /**
   * send_call_function_single_ipi: no IPI for an idle CPU that polls need_resched (it is told
   * to reschedule and flushes its queue on the way out of idle); otherwise `ipi_send_cpu` and the
   * arch send. A dead CPU (an `irqWorkQueueOn` to an offline CPU) is as in `reschedCurr`: 6.1's
   * set_nr_if_polling tests the idle task the CPU died in, inside do_idle's loop with
   * TIF_POLLING_NRFLAG still set, so where the arch has the flag need_resched is set and no IPI
   * is sent (the CPU flushes its queue when it is back); without the flag the IPI goes out. (A
   * dead CPU that kept a task program keeps its flag, as in `reschedOffline`.)
   */
  *sendCallFunctionSingleIpi(cpu: number, callsite = "generic_exec_single"): CpuCode<void> {
    const m = this.machine;
    const t = m.cpus[cpu];
    if (t.dead && this.idlePollingFlag) {
      this.stats.idlePollKicks++;
      if (t.idle) t.needResched = true;
      this.traceWakeIdleWithoutIpi(cpu);
      return;
    }
    if (
      this.weak && m.current >= 0
        ? !t.dead && this.memory.setNrIfPolling(m.current, cpu)
        : t.idle && t.polling && !t.dead
    ) {
      this.stats.idlePollKicks++;
      this.wakeIdleWithoutIpi(cpu);
      return;
    }
    this.stats.ipisSingle++;
    this.stats.ipiTargets++;
    if (m.current >= 0) this.stats.ipisFrom[m.current]++;
    if (m.trace.enabled)
      m.trace.emit(m.now, m.current, m.cpus[m.current], "ipi_send_cpu", {
        cpu,
        callsite,
        callback: "generic_smp_call_function_single_interrupt",
      });
    const c = m.cpus[m.current];
    const label = c.codeLabel;
    const depth = c.codeLabelDepth;
    // Stryker disable next-line ConditionalExpression: equivalent, a barrier under sc does nothing
    if (this.weak) this.memory.beforeArchSend(c.id);
    const g = this.archIpi.sendCallFunctionSingleIpi(cpu);
    this.enterArch(c, g, "sendCallFunctionSingleIpi");
    yield* g;
    this.leaveArch(c, label, depth, "sendCallFunctionSingleIpi");
  }

  /**
   * arch_send_call_function_single_ipi alone: no idle-polling check, no tracepoint, not counted
   * as a call's IPI (the watchdog's re-send; counted in `stats.watchdogResends`).
   */
  *archSendCallFunctionSingleIpi(cpu: number): CpuCode<void> {
    const c = this.machine.currentCpu();
    const label = c.codeLabel;
    const depth = c.codeLabelDepth;
    const g = this.archIpi.sendCallFunctionSingleIpi(cpu);
    this.enterArch(c, g, "sendCallFunctionSingleIpi");
    yield* g;
    this.leaveArch(c, label, depth, "sendCallFunctionSingleIpi");
  }

  /** send_call_function_ipi_mask: `ipi_send_cpumask` and the arch mask send. */
  *sendCallFunctionIpiMask(mask: CpuMask, callsite = "smp_call_function_many_cond"): CpuCode<void> {
    const m = this.machine;
    const w = mask.weight();
    this.stats.ipisMask++;
    this.stats.ipiTargets += w;
    this.stats.ipisFrom[m.current] += w;
    if (m.trace.enabled)
      m.trace.emit(m.now, m.current, m.cpus[m.current], "ipi_send_cpumask", {
        cpumask: mask.toString(),
        callsite,
        callback: "generic_smp_call_function_single_interrupt",
      });
    const c = m.cpus[m.current];
    const label = c.codeLabel;
    const depth = c.codeLabelDepth;
    if (this.weak) this.memory.beforeArchSend(c.id);
    const g = this.archIpi.sendCallFunctionIpiMask(mask);
    this.enterArch(c, g, "sendCallFunctionIpiMask");
    yield* g;
    this.leaveArch(c, label, depth, "sendCallFunctionIpiMask");
  }

  /**
   * The backend's send `method` returned `g`: check it is a generator and name the CPU's running
   * code after it, so a bad step or an exception in it names the backend.
   */
  private enterArch(c: Cpu, g: unknown, method: string): void {
    // An async generator has next() too, but `yield*` cannot drive it: it has no Symbol.iterator.
    if (!isGenerator(g))
      throw new InvalidStepError(
        `${this.archName}: ${method} returned ${isAsyncIterable(g) ? "an async generator" : describeValue(g)}, not a generator: write it as *${method}(...) { ... }${isAsyncIterable(g) ? " (not async: the machine runs a step at a time, synchronously)" : ""}`,
        c.id,
        g,
        this.archName,
      );
    c.codeLabel = `${this.archName} in ${method}`;
    c.codeLabelDepth = c.depth;
  }

  /**
   * The backend's send `method` has returned: give the CPU's running code its name back; a send
   * path that left traps held (`Interconnect.holdTraps`) is refused, naming the backend.
   */
  private leaveArch(c: Cpu, label: string | null, depth: number, method: string): void {
    c.codeLabel = label;
    c.codeLabelDepth = depth;
    if (c.trapsHeld)
      throw new InvalidStepError(
        `${this.archName}: ${method} returned with traps held on CPU ${c.id} (holdTraps(true) without holdTraps(false)): release them before the send path returns`,
        c.id,
        method,
        this.archName,
      );
  }

  /**
   * __smp_call_single_queue: queue `csd` on `cpu` and send an IPI only if the queue was empty.
   * No checks: callers have validated `cpu`. (Exposed for tests of racy callers.) `callsite` names
   * the caller in `csd_queue_cpu`; with the profile's smp.c tracepoints (mainline) the IPI's
   * `ipi_send_cpu` names the same caller, as both take the one return address of
   * `__smp_call_single_queue` (6.1's records keep `generic_exec_single` there).
   */
  *smpCallSingleQueue(cpu: number, csd: CallSingleData, callsite: string): CpuCode<void> {
    const m = this.machine;
    if (m.trace.enabled)
      m.trace.emit(m.now, m.current, m.cpus[m.current], "csd_queue_cpu", {
        cpu,
        callsite,
        func: funcName(csd.func),
        csd: csd.hex,
      });
    csd.queuedAt = m.now;
    this.stats.csdsQueued++;
    const wasEmpty = this.weak ? this.weakQueueAdd(m.current, cpu, csd) : this.callSingleQueue.add(cpu, csd);
    if (this.onQueueAdd !== null) this.onQueueAdd(cpu);
    if (wasEmpty) {
      yield m.cost.queueAddNs;
      yield* this.sendCallFunctionSingleIpi(cpu, this.profile.smpTracepoints ? callsite : undefined);
    } else {
      this.stats.ipisSaved++;
      // Stryker disable next-line ConditionalExpression: equivalent, emit() ignores a disabled trace (the test only saves building the record)
      if (m.trace.enabled)
        m.trace.emit(m.now, m.current, m.cpus[m.current], "smpcall_ipi_saved", { cpu, csd: csd.hex });
      yield m.cost.queueAddNs;
    }
  }

  /** llist_add under a weak memory model: the list keeps the entry; the layer says if it was empty. */
  private weakQueueAdd(self: number, cpu: number, csd: CallSingleData): boolean {
    this.callSingleQueue.add(cpu, csd);
    return this.memory.queueAdd(self, cpu);
  }

  /** generic_exec_single: run locally, refuse an invalid/offline CPU (-ENXIO), or queue. */
  private *genericExecSingle(cpu: number, csd: CallSingleData, callsite: string): CpuCode<number> {
    const m = this.machine;
    if (cpu === m.current) {
      const func = csd.func!;
      const info = csd.info;
      this.csdUnlock(csd);
      const was = m.localIrqSave("generic_exec_single", callsite);
      // csd_do_func(func, info, NULL) in mainline: its csd_function_entry/exit name no csd.
      yield* this.csdDoFunc(func, info, csd, -1, this.profile.smpTracepoints ? null : csd);
      m.localIrqRestore(was, "generic_exec_single", callsite);
      return 0;
    }
    if (!Number.isInteger(cpu) || cpu < 0 || cpu >= m.nrCpus || !m.cpus[cpu].online) {
      this.csdUnlock(csd);
      this.stats.enxio++;
      return -ENXIO;
    }
    // The caller of __smp_call_single_queue, as mainline's tracepoints name it; 6.1's records keep the API's name.
    yield* this.smpCallSingleQueue(cpu, csd, this.profile.smpTracepoints ? "generic_exec_single" : callsite);
    return 0;
  }

  // ------------------------------------------------------------------ public API

  /**
   * smp_call_function_single: run `func(info)` on `cpu`. Self: runs at once with interrupts
   * disabled. Invalid or offline CPU: -ENXIO. `wait`: return only after the callback returned
   * (on-stack SYNC csd); otherwise use this CPU's csd_data, first waiting for its previous use.
   * Warns when called with interrupts disabled or outside task context.
   */
  *smpCallFunctionSingle<I>(cpu: number, func: SmpCallFunc<I>, info: I, wait: boolean): CpuCode<number> {
    checkCpuId("smpCallFunctionSingle", cpu);
    checkFunc("smpCallFunctionSingle", "func", func);
    checkWait("smpCallFunctionSingle", wait);
    const m = this.machine;
    const c = m.currentCpu();
    m.preemptDisable(); // get_cpu()
    this.stats.callsIssued++;
    this.warnIfIrqsDisabled("single-irqs-disabled", "smp_call_function_single", c);
    this.warnIfNotTask("single-not-in-task", "smp_call_function_single", c);
    let csd: CallSingleData;
    if (wait) {
      csd = this.stackCsd(c.id, c.hardirqDepth);
      csd.flags = CSD_FLAG_LOCK | CSD_TYPE_SYNC;
      if (this.weak) this.memory.csdSetFlags(c.id, csd, csd.flags);
    } else {
      csd = this.csdDataOf(c.id);
      yield* this.csdLock(csd);
    }
    csd.func = func as SmpCallFunc;
    csd.info = info;
    if (this.weak) this.memory.csdSetFields(c.id, csd);
    csd.src = c.id;
    csd.dst = cpu;
    const err = yield* this.genericExecSingle(cpu, csd, "smp_call_function_single");
    if (wait) yield* this.csdLockWait(csd);
    m.preemptEnable(); // put_cpu()
    return err;
  }

  /**
   * smp_call_function_single_async: queue a caller-owned csd (from `initCsd`). -EBUSY if it is
   * still locked (nothing queued); -ENXIO for an invalid/offline CPU. Never waits; allowed with
   * interrupts disabled and from IRQ context. The csd is unlocked before its callback runs, so the
   * callback may queue it again.
   */
  *smpCallFunctionSingleAsync(cpu: number, csd: CallSingleData): CpuCode<number> {
    checkCpuId("smpCallFunctionSingleAsync", cpu);
    checkCsd("smpCallFunctionSingleAsync", csd);
    const m = this.machine;
    this.stats.callsIssued++;
    // The lock bit as this CPU reads it: under a weak model a target's unlock may not be visible yet.
    if (csd.locked || (this.weak && this.memory.csdAsyncReadLocked(m.current, csd))) {
      this.stats.ebusy++;
      return -EBUSY;
    }
    csd.flags = CSD_FLAG_LOCK | CSD_TYPE_ASYNC;
    if (this.weak) this.memory.csdAsyncLock(m.current, csd, csd.flags);
    csd.src = m.smpProcessorId();
    csd.dst = cpu;
    m.preemptDisable();
    const err = yield* this.genericExecSingle(cpu, csd, "smp_call_function_single_async");
    m.preemptEnable();
    return err;
  }

  /**
   * smp_call_function_many_cond: run `func(info)` on every online CPU of `mask` but the caller,
   * filtered by `condFunc(cpu, info)` when given. SCF_WAIT: wait for every callback.
   * SCF_RUN_LOCAL: also run it on the caller when the caller is in `mask` (and passes `condFunc`).
   * Each target's csd goes on its queue; only targets whose queue was empty get an IPI: one target
   * via the single-IPI path, several via one mask send.
   */
  smpCallFunctionManyCond<I>(
    mask: CpuMask,
    func: SmpCallFunc<I>,
    info: I,
    scfFlags: number,
    condFunc?: SmpCondFunc<I> | null,
  ): CpuCode<void> {
    return this.manyCond(mask, func, info, scfFlags, condFunc, false, "smp_call_function_many_cond");
  }

  /**
   * `_many_cond` itself; with `preemptOff` it runs between preempt_disable and preempt_enable, as
   * the kernel's wrappers do. A hand-driven iterator (see {@link SmpKernel.ManyCall}). `caller` is
   * the function that called `_many_cond` (`smp_call_function_many`, `smp_call_function`,
   * `on_each_cpu_cond_mask`): mainline's `csd_queue_cpu` and `ipi_send_*` name it as their
   * callsite, `_many_cond`'s return address (6.1's records name `smp_call_function_many_cond`).
   */
  private manyCond<I>(
    mask: CpuMask,
    func: SmpCallFunc<I>,
    info: I,
    scfFlags: number,
    condFunc: SmpCondFunc<I> | null | undefined,
    preemptOff: boolean,
    caller: string,
  ): CpuCode<void> {
    return new SmpKernel.ManyCall(
      this,
      mask,
      func as SmpCallFunc,
      info,
      scfFlags,
      (condFunc ?? null) as SmpCondFunc | null,
      preemptOff,
      this.profile.smpTracepoints ? caller : "smp_call_function_many_cond",
    );
  }

  /**
   * One `_many_cond` call, driven step by step by hand. It runs as the generator
   *
   *     begin()                                   checks, warnings, masks, completion reset
   *     for (cpu of cfd.cpumask) {                one step per target:
   *       cond false: (clear or wait on it), next
   *       csd = cfdCsd(cpu); locked: yield* csdLockWait(csd)
   *       lock, fill, trace, queue (IPI mask or saved), spend or yield perTargetNs
   *     }
   *     yield* end()                              IPIs, the local call, the wait, preempt_enable
   *
   * would, step for step, but the per-target loop costs no generator resume and allocates nothing
   * (one result object reused for every step it yields; results of code it delegates to are
   * passed on as they are, as `yield*` does).
   */
  private static readonly ManyCall = class ManyCall implements CpuCode<void> {
    private state = MANY_START;
    private inner: CpuCode<void> | null = null;
    private readonly result: IteratorYieldResult<Step> = { done: false, value: 0 };
    // Set by begin() before any use, so their initial values are never read:
    // Stryker disable all: equivalent (see above)
    private c!: Cpu;
    private self = -1;
    private wait = false;
    private runLocal = false;
    private condFalseStays = false;
    private cfd!: CallFunctionData;
    private n = 0;
    private type = 0;
    private name = "";
    private tracing = false;
    private done!: CallCompletion;
    // Stryker restore all
    /** Targets that need an IPI so far, and the last of them. */
    private nrCpus = 0;
    // Stryker disable next-line UnaryOperator: equivalent, read only once nrCpus is 1, which set it
    private lastCpu = -1;
    /** The target being handled, and its csd. */
    private cpu = 0;
    private csd: CallSingleData | null = null;

    constructor(
      private readonly k: SmpKernel,
      private readonly mask: CpuMask,
      private readonly func: SmpCallFunc,
      private readonly info: unknown,
      private readonly scfFlags: number,
      private readonly condFunc: SmpCondFunc | null,
      private readonly preemptOff: boolean,
      /** What the call's tracepoints name as their callsite. */
      private readonly callsite: string,
    ) {}

    [Symbol.iterator](): this {
      return this;
    }

    return(): IteratorReturnResult<void> {
      this.state = MANY_DONE;
      this.inner = null;
      return { done: true, value: undefined };
    }

    throw(e: unknown): never {
      this.state = MANY_DONE;
      throw e;
    }

    // Stryker disable next-line BlockStatement: never called (the Generator type asks for it; nothing disposes a kernel iterator)
    [Symbol.dispose](): void {
      this.return();
    }

    /** Everything before the loop over the targets. */
    private begin(): void {
      const k = this.k;
      const m = k.machine;
      const mask = this.mask;
      const scfFlags = this.scfFlags;
      const condFunc = this.condFunc;
      if (this.preemptOff) m.preemptDisable();
      checkMask("smpCallFunctionManyCond", mask, m.nrCpus);
      checkFunc("smpCallFunctionManyCond", "func", this.func);
      checkCond("smpCallFunctionManyCond", condFunc);
      if (
        typeof scfFlags !== "number" ||
        !Number.isInteger(scfFlags) ||
        (scfFlags & ~(SCF_WAIT | SCF_RUN_LOCAL)) !== 0
      )
        throw new InvalidArgumentError(
          `smpCallFunctionManyCond: scfFlags must combine SCF_WAIT and SCF_RUN_LOCAL, got ${String(scfFlags)}`,
        );
      const c = m.currentCpu();
      const self = c.id;
      this.c = c;
      this.self = self;
      this.wait = (scfFlags & SCF_WAIT) !== 0;
      k.stats.callsIssued++;
      k.assertPreemptionDisabled(c);
      k.warnIfIrqsDisabled("many-irqs-disabled", "smp_call_function_many_cond", c);
      k.warnIfNotTask("many-not-in-task", "smp_call_function_many_cond", c);
      const profile = k.profile;
      // Mainline asks cond_func(self) before the remote loop; 6.1 after the IPIs were sent.
      let runLocal = (scfFlags & SCF_RUN_LOCAL) !== 0 && mask.test(self);
      if (runLocal && condFunc && !profile.condSelfAfterRemote) runLocal = condFunc(self, this.info);
      this.runLocal = runLocal;
      this.condFalseStays = profile.condFalseStaysInMask;
      const cfd = k.cfd(self);
      this.cfd = cfd;
      cfd.cpumask.and(mask, m.onlineMask);
      cfd.cpumask.clear(self);
      cfd.cpumaskIpi.clearAll();
      this.n = m.nrCpus;
      this.tracing = m.trace.enabled;
      this.type = this.wait ? CSD_TYPE_SYNC : CSD_TYPE_ASYNC;
      // Stryker disable next-line StringLiteral: equivalent, the name is read only by trace records, written only while tracing
      this.name = this.tracing ? funcName(this.func) : "";
      this.done = cfd.completion;
      this.done.reset();
      this.cpu = cfd.cpumask.first();
    }

    /** Queue the csd of target `cpu` (its lock is free); then its time is spent or yielded. */
    private queue(csd: CallSingleData): boolean {
      const k = this.k;
      const m = k.machine;
      const self = this.self;
      const cpu = this.cpu;
      const weak = k.weak;
      csd.flags = CSD_FLAG_LOCK | this.type;
      if (weak) k.weakManyCsd(self, csd);
      if (this.wait) {
        const done = this.done;
        csd.completion = done;
        done.pending++;
        done.add(csd);
      }
      csd.func = this.func;
      csd.info = this.info;
      csd.src = self;
      csd.dst = cpu;
      // Stryker disable next-line ConditionalExpression: equivalent, emit() ignores a disabled trace (the test only saves building the record)
      if (this.tracing)
        m.trace.emit(m.now, self, this.c, "csd_queue_cpu", {
          cpu,
          callsite: this.callsite,
          func: this.name,
          csd: csd.hex,
        });
      csd.queuedAt = m.now;
      k.stats.csdsQueued++;
      const wasEmpty = weak ? k.weakQueueAdd(self, cpu, csd) : k.callSingleQueue.add(cpu, csd);
      if (k.onQueueAdd !== null) k.onQueueAdd(cpu);
      if (wasEmpty) {
        this.cfd.cpumaskIpi.set(cpu);
        this.nrCpus++;
        this.lastCpu = cpu;
      } else {
        k.stats.ipisSaved++;
        // Stryker disable next-line ConditionalExpression: equivalent, emit() ignores a disabled trace (the test only saves building the record)
        if (this.tracing) m.trace.emit(m.now, self, this.c, "smpcall_ipi_saved", { cpu, csd: csd.hex });
      }
      const ns = k.perTargetNs;
      if (m.spendInline(ns)) return true;
      this.result.value = ns;
      return false;
    }

    /** Everything after the loop: the IPIs, the local call, the wait, preempt_enable. */
    private *end(): CpuCode<void> {
      const k = this.k;
      const m = k.machine;
      const condFunc = this.condFunc;
      const self = this.self;
      const done = this.done;
      if (this.nrCpus === 1) yield* k.sendCallFunctionSingleIpi(this.lastCpu, this.callsite);
      // Stryker disable next-line EqualityOperator: equivalent, nrCpus === 1 was taken by the line above
      else if (this.nrCpus > 1) yield* k.sendCallFunctionIpiMask(this.cfd.cpumaskIpi, this.callsite);
      let runLocal = this.runLocal;
      if (runLocal && condFunc && k.profile.condSelfAfterRemote) runLocal = condFunc(self, this.info);
      if (runLocal) {
        const was = m.localIrqSave("smp_call_function_many_cond", "on_each_cpu_cond_mask");
        yield* k.csdDoFunc(this.func, this.info, null, -1);
        m.localIrqRestore(was, "smp_call_function_many_cond", "on_each_cpu_cond_mask");
      }
      if (this.wait && done.pending > 0)
        yield* k.csdWatchdog.wait(done, () => (done.pending > 0 ? done.firstLocked() : null));
      if (this.wait && k.weak) for (const csd of done.csds) k.memory.csdLockWaitDone(self, csd);
      if (this.preemptOff) m.preemptEnable();
    }

    next(): IteratorResult<Step, void> {
      for (;;) {
        if (this.inner !== null) {
          const r = this.inner.next();
          if (r.done !== true) return r;
          this.inner = null;
        }
        switch (this.state) {
          case MANY_START:
            this.begin();
            this.state = MANY_LOOP;
            continue;
          case MANY_NEXT:
            // The for loop's update, after a step that yielded.
            this.cpu = this.cfd.cpumask.next(this.cpu);
            this.state = MANY_LOOP;
            continue;
          case MANY_LOOP: {
            const cpu = this.cpu;
            const cfd = this.cfd;
            if (cpu >= this.n) {
              this.state = MANY_DONE;
              this.inner = this.end();
              continue;
            }
            const condFunc = this.condFunc;
            if (condFunc && !condFunc(cpu, this.info)) {
              if (!this.condFalseStays) cfd.cpumask.clear(cpu);
              else if (this.wait) this.k.waitOnCondFalse(cfd, cpu, this.done);
              this.cpu = cfd.cpumask.next(cpu);
              continue;
            }
            const csd = this.k.cfdCsd(cfd, this.self, cpu);
            if (csd.locked || this.k.weak) {
              this.csd = csd;
              this.state = MANY_QUEUE;
              this.inner = this.k.csdLockWait(csd);
              continue;
            }
            if (this.queue(csd)) {
              this.cpu = cfd.cpumask.next(cpu);
              continue;
            }
            this.state = MANY_NEXT;
            return this.result;
          }
          case MANY_QUEUE: {
            // After waiting for the csd's previous use.
            const csd = this.csd!;
            this.csd = null;
            if (this.queue(csd)) {
              this.cpu = this.cfd.cpumask.next(this.cpu);
              this.state = MANY_LOOP;
              continue;
            }
            this.state = MANY_NEXT;
            return this.result;
          }
          default:
            return ITER_DONE;
        }
      }
    }
  };

  /** csd_lock's store and smp_wmb, `|= CSD_TYPE_SYNC`, then func/info, under a weak memory model. */
  private weakManyCsd(self: number, csd: CallSingleData): void {
    const mem = this.memory;
    mem.csdLock(self, csd);
    if (csd.flags !== CSD_FLAG_LOCK) mem.csdSetFlags(self, csd, csd.flags);
    mem.csdSetFields(self, csd);
  }

  /**
   * 6.1 keeps a CPU whose cond_func is false in `cfd->cpumask`, and a waiting call waits on its
   * csd too: nothing is queued there, but a previous call's csd that is still in flight (a
   * many-call without wait) holds the waiter up until that callback has run.
   */
  private waitOnCondFalse(cfd: CallFunctionData, cpu: number, done: CallCompletion): void {
    const csd = cfd.csd[cpu];
    if (csd === undefined || !csd.locked || csd.completion !== null) return;
    csd.completion = done;
    done.pending++;
    done.add(csd);
  }

  /** get_cpu(): disable preemption and return this CPU's id (pair with {@link putCpu}). */
  getCpu(): number {
    this.machine.preemptDisable();
    return this.machine.smpProcessorId();
  }

  /** put_cpu(): enable preemption again after {@link getCpu}. */
  putCpu(): void {
    this.machine.preemptEnable();
  }

  /** smp_call_function_many: `_many_cond` without cond; never runs on the caller. */
  smpCallFunctionMany<I>(mask: CpuMask, func: SmpCallFunc<I>, info: I, wait: boolean): CpuCode<void> {
    this.checkManyArgs("smpCallFunctionMany", mask, func, null, wait);
    return this.manyCond(mask, func, info, wait ? SCF_WAIT : 0, null, false, "smp_call_function_many");
  }

  /** smp_call_function: run on every other online CPU. */
  smpCallFunction<I>(func: SmpCallFunc<I>, info: I, wait: boolean): CpuCode<void> {
    this.checkManyArgs("smpCallFunction", this.machine.onlineMask, func, null, wait);
    return this.manyCond(
      this.machine.onlineMask,
      func,
      info,
      wait ? SCF_WAIT : 0,
      null,
      true,
      "smp_call_function",
    );
  }

  /**
   * smp_call_function_any: run on one CPU of `mask`: the caller if it is in it, else the first
   * online CPU of the mask on the caller's NUMA node, else any online CPU of the mask (-ENXIO when
   * none is online).
   */
  *smpCallFunctionAny<I>(mask: CpuMask, func: SmpCallFunc<I>, info: I, wait: boolean): CpuCode<number> {
    this.checkManyArgs("smpCallFunctionAny", mask, func, null, wait);
    const m = this.machine;
    const self = m.smpProcessorId();
    m.preemptDisable(); // get_cpu()
    const err = yield* this.smpCallFunctionSingle(this.pickAnyCpu(mask, self), func, info, wait);
    m.preemptEnable(); // put_cpu()
    return err;
  }

  /** Entry checks shared by the many-call family (see api-checks.ts). */
  private checkManyArgs(api: string, mask: unknown, func: unknown, cond: unknown, wait: unknown): void {
    checkMask(api, mask, this.machine.nrCpus);
    checkFunc(api, "func", func);
    checkCond(api, cond);
    checkWait(api, wait);
  }

  /** The CPU `smpCallFunctionAny` picks for `self` (nrCpus when none). */
  pickAnyCpu(mask: CpuMask, self: number): number {
    const m = this.machine;
    const n = m.nrCpus;
    if (mask.test(self)) return self;
    const topo = m.topology;
    let any = n;
    for (let cpu = mask.first(); cpu < n; cpu = mask.next(cpu)) {
      if (!m.cpus[cpu].online) continue;
      if (topo.sameNode(cpu, self)) return cpu;
      if (any === n) any = cpu;
    }
    return any;
  }

  /** on_each_cpu_cond_mask: `_many_cond` with SCF_RUN_LOCAL, so the caller runs it too. */
  onEachCpuCondMask<I>(
    condFunc: SmpCondFunc<I> | null,
    func: SmpCallFunc<I>,
    info: I,
    wait: boolean,
    mask: CpuMask,
  ): CpuCode<void> {
    this.checkManyArgs("onEachCpuCondMask", mask, func, condFunc, wait);
    return this.manyCond(
      mask,
      func,
      info,
      SCF_RUN_LOCAL | (wait ? SCF_WAIT : 0),
      condFunc,
      true,
      "on_each_cpu_cond_mask",
    );
  }

  /** on_each_cpu: every online CPU including the caller. */
  onEachCpu<I>(func: SmpCallFunc<I>, info: I, wait: boolean): CpuCode<void> {
    this.checkManyArgs("onEachCpu", this.machine.onlineMask, func, null, wait);
    return this.onEachCpuCondMask(null, func, info, wait, this.machine.onlineMask);
  }

  /** on_each_cpu_mask: every online CPU of `mask`, the caller too if it is in it. */
  onEachCpuMask<I>(mask: CpuMask, func: SmpCallFunc<I>, info: I, wait: boolean): CpuCode<void> {
    this.checkManyArgs("onEachCpuMask", mask, func, null, wait);
    return this.onEachCpuCondMask(null, func, info, wait, mask);
  }

  /** on_each_cpu_cond: every online CPU for which `condFunc` holds. */
  onEachCpuCond<I>(condFunc: SmpCondFunc<I>, func: SmpCallFunc<I>, info: I, wait: boolean): CpuCode<void> {
    this.checkManyArgs("onEachCpuCond", this.machine.onlineMask, func, condFunc, wait);
    return this.onEachCpuCondMask(condFunc, func, info, wait, this.machine.onlineMask);
  }

  /** kick_all_cpus_sync: returns after every other online CPU has taken an interrupt (or flushed from idle). */
  kickAllCpusSync(): CpuCode<void> {
    return this.smpCallFunction(doNothing, null, true);
  }

  /**
   * wake_up_all_idle_cpus: for every other online CPU, with preemption off, wake_up_if_idle:
   * if the CPU runs its idle task, `reschedCurr` on it with interrupts off (6.1 holds the target's
   * runqueue lock with interrupts saved around resched_curr, so the IPI is sent with them off).
   */
  *wakeUpAllIdleCpus(): CpuCode<void> {
    const m = this.machine;
    const self = m.smpProcessorId();
    const n = m.nrCpus;
    for (let cpu = m.onlineMask.first(); cpu < n; cpu = m.onlineMask.next(cpu)) {
      // Stryker disable next-line ConditionalExpression: equivalent, the caller is running this, so never idle
      if (cpu === self || !m.cpus[cpu].idle) continue;
      m.preemptDisable();
      const flags = m.localIrqSave("wake_up_if_idle", "wake_up_all_idle_cpus");
      yield* this.reschedCurr(cpu, "wake_up_if_idle");
      m.localIrqRestore(flags, "wake_up_if_idle", "wake_up_all_idle_cpus");
      m.preemptEnable();
    }
  }

  /**
   * resched_curr: ask `cpu` to reschedule, as the scheduler does when it makes a task runnable
   * there. For an idle CPU, as 6.1: nothing when its need_resched is already set; otherwise set it,
   * then send a reschedule IPI (`smpSendReschedule`) unless the CPU was polling (in its polling
   * window, or asleep on the flag), which sees the flag itself: no IPI, traced as
   * `sched_wake_idle_without_ipi` (set_nr_and_not_polling). A nonexistent CPU gets nothing. An
   * offline CPU is as 6.1's dead CPU (`resched_curr` checks nothing): its current task is its idle
   * task, which died inside the idle loop with TIF_POLLING_NRFLAG still set, so where the arch has
   * the flag its need_resched is set and no IPI sent (traced `sched_wake_idle_without_ipi`), and
   * the CPU leaves its idle loop at once when it is back (a fresh `do_idle` skips its loop while the
   * flag is set); without the flag (6.1's arm64, RISC-V) the flag is set and the reschedule IPI sent
   * (`smpSendReschedule`: the backend does what its arch does with an offline target).
   *
   * Differs from 6.1 for a CPU running a task program (the calling CPU included): the model has
   * no scheduler, and need_resched matters only to the idle loop (which leaves and flushes its
   * call queue when it sees it). There, the flag would be cleared by that CPU's next schedule();
   * here nothing would clear it, and it would make the CPU skip its next idle period and every
   * later reschedule's IPI. So `reschedCurr` leaves a busy CPU's flag alone and sends it the IPI
   * (none to the calling CPU), as 6.1 does when the flag was clear.
   */
  *reschedCurr(cpu: number, callsite = "resched_curr"): CpuCode<void> {
    const m = this.machine;
    checkCpuId("reschedCurr", cpu);
    if (cpu < 0 || cpu >= m.nrCpus) return;
    const t = m.cpus[cpu];
    if (!t.online) {
      yield* this.reschedOffline(cpu, callsite);
      return;
    }
    if (!t.idle) {
      if (cpu !== m.smpProcessorId()) yield* this.smpSendReschedule(cpu, callsite);
      return;
    }
    if (t.needResched) return;
    if (t.polling) {
      this.wakeIdleWithoutIpi(cpu);
      return;
    }
    t.needResched = true;
    yield* this.smpSendReschedule(cpu, callsite);
  }

  /**
   * resched_curr on an offline CPU (see `reschedCurr`). A CPU whose task program was running when
   * it went down keeps it (the model does not migrate tasks; 6.1 would have moved it away, its
   * current task being the idle one): its flag is left alone, as for a busy CPU, since nothing
   * would clear it before the program ends.
   */
  private *reschedOffline(cpu: number, callsite: string): CpuCode<void> {
    const m = this.machine;
    const t = m.cpus[cpu];
    if (t.needResched) return;
    if (t.idle) t.needResched = true;
    if (this.idlePollingFlag) {
      this.traceWakeIdleWithoutIpi(cpu);
      return;
    }
    yield* this.smpSendReschedule(cpu, callsite);
  }

  /** `sched_wake_idle_without_ipi`: `cpu` was told to reschedule by its polling flag, no IPI sent. */
  private traceWakeIdleWithoutIpi(cpu: number): void {
    const m = this.machine;
    // Stryker disable next-line ConditionalExpression: equivalent, emit() ignores a disabled trace (the test only saves building the record)
    if (m.trace.enabled)
      m.trace.emit(m.now, m.current, m.cpus[m.current], "sched_wake_idle_without_ipi", { cpu });
  }

  /**
   * An idle CPU that polls need_resched is told to reschedule without an IPI: set the flag, trace
   * `sched_wake_idle_without_ipi`, wake its idle wait (it then leaves idle and flushes its queue).
   */
  private wakeIdleWithoutIpi(cpu: number): void {
    const m = this.machine;
    m.cpus[cpu].needResched = true;
    this.traceWakeIdleWithoutIpi(cpu);
    m.wake(this.idleWaits[cpu]);
  }

  /**
   * smp_send_reschedule: send `cpu` the arch's reschedule IPI, nothing else: the target's receive
   * path calls `schedulerIpi`, which sets nothing, so an idle target woken from a halt by it halts
   * again (its call queue untouched) unless need_resched was set first — `reschedCurr` is the
   * scheduler's way (resched_curr), which sets it and then calls this. An offline CPU is passed to
   * the backend as 6.1's generic code passes it to the arch (nothing between the scheduler and the
   * arch's `smp_send_reschedule` checks): the backend does what its arch does (x86 WARNs
   * "Unexpected reschedule of offline CPU" and sends nothing, sparc64 skips it, powerpc sends the
   * message, which waits or is lost as the platform's offline CPUs do). A nonexistent CPU gets
   * nothing. Counted in `stats.rescheduleIpis` (requests, an offline target's included), traced
   * as `ipi_send_cpu` before the backend is called (mainline's `smp_send_reschedule` traces it
   * before calling the arch, offline target or not).
   */
  *smpSendReschedule(cpu: number, callsite = "smp_send_reschedule"): CpuCode<void> {
    const m = this.machine;
    checkCpuId("smpSendReschedule", cpu);
    if (cpu < 0 || cpu >= m.nrCpus) return;
    this.stats.rescheduleIpis++;
    // Stryker disable next-line ConditionalExpression: equivalent, emit() ignores a disabled trace (the test only saves building the record)
    if (m.trace.enabled)
      m.trace.emit(m.now, m.current, m.cpus[m.current], "ipi_send_cpu", {
        cpu,
        callsite,
        callback: "scheduler_ipi",
      });
    const c = m.cpus[m.current];
    const label = c.codeLabel;
    const depth = c.codeLabelDepth;
    const g = this.archIpi.sendRescheduleIpi(cpu);
    this.enterArch(c, g, "sendRescheduleIpi");
    yield* g;
    this.leaveArch(c, label, depth, "sendRescheduleIpi");
  }

  // ------------------------------------------------------------------ receive path

  /** generic_smp_call_function_interrupt (arch receive side, hard-IRQ context). */
  genericSmpCallFunctionInterrupt(): CpuCode<void> {
    if (this.receiveOverride !== null) return this.receiveOverride.genericSmpCallFunctionInterrupt();
    this.countHandlerCall();
    return this.flushQueue(true, "irq");
  }

  /** generic_smp_call_function_single_interrupt (the same flush since v5.x). */
  genericSmpCallFunctionSingleInterrupt(): CpuCode<void> {
    if (this.receiveOverride !== null) return this.receiveOverride.genericSmpCallFunctionSingleInterrupt();
    this.countHandlerCall();
    return this.flushQueue(true, "irq");
  }

  /** One more generic handler call on this CPU (counted in the CPU object: see `KernelStats.handlerCallsOn`). */
  private countHandlerCall(): void {
    this.machine.currentCpu().kernelHandlerCalls++;
    this.stats.perCpuDirty = true;
  }

  /**
   * scheduler_ipi: the reschedule IPI's handler. 6.1's folds a need_resched its sender already set
   * (resched_curr sets it before sending) into the preempt count, which the model does not keep,
   * so it sets nothing: an idle CPU leaves its loop only if the sender set the flag. Backends must
   * still call it once per reschedule message taken (the conformance kit counts the calls).
   */
  schedulerIpi(): void {}

  /** flush_smp_call_function_queue: from idle; returns at once when the queue is empty. */
  *flushSmpCallFunctionQueue(): CpuCode<void> {
    const m = this.machine;
    const cpu = m.smpProcessorId();
    if (this.weak ? this.memory.queueEmpty(cpu) : this.callSingleQueue.isEmpty(cpu)) return;
    const was = m.localIrqSave("flush_smp_call_function_queue", "do_idle");
    yield* this.flushQueue(true, "idle");
    m.localIrqRestore(was, "flush_smp_call_function_queue", "do_idle");
  }

  /**
   * __flush_smp_call_function_queue: take the whole queue (oldest first); warn if this CPU is
   * offline; run every SYNC entry first (unlocking each after its callback returned), then the
   * others in order (ASYNC: unlock, then run). Driven step by step like a generator, but by hand
   * (see {@link SmpKernel.QueueFlush}): every callback of a broadcast goes through here.
   */
  private flushQueue(warnCpuOffline: boolean, from: "irq" | "idle" | "dying"): CpuCode<void> {
    return (this.freeFlushes.pop() ?? new SmpKernel.QueueFlush(this)).reset(warnCpuOffline, from);
  }

  /**
   * The flush's first steps, run when it starts: take the queue, count the flush, warn for an
   * offline CPU. Returns the entries oldest first, or null when there is nothing to run.
   */
  private flushBegin(warnCpuOffline: boolean, from: "irq" | "idle" | "dying"): CallSingleData | null {
    const m = this.machine;
    const c = m.currentCpu();
    if (this.weak && this.memory.queueDelAll(c.id) === 0) return null;
    const head = this.callSingleQueue.delAll(c.id);
    if (head === null) return null;
    if (this.weak)
      for (let e: CallSingleData | null = head; e !== null; e = e.next) this.memory.csdReadFields(c.id, e);
    if (from === "irq") this.stats.flushesIrq++;
    else if (from === "idle") this.stats.flushesIdle++;
    else this.stats.flushesDying++;
    // WARN once per boot (a static flag in the kernel); the lines naming each entry come with it.
    // (The text is built only for an offline CPU: one string per interrupt less.)
    const offline = warnCpuOffline && !c.online ? `IPI on offline CPU ${c.id}` : "";
    if (offline !== "" && this.warnAt("offline-ipi", "flush:offline", c, offline, offline)) {
      const where = this.profile.warnSites["offline-ipi"].location;
      for (let e: CallSingleData | null = head; e !== null; e = e.next) {
        const line =
          (e.flags & CSD_FLAG_TYPE_MASK) === CSD_TYPE_TTWU
            ? "IPI task-wakeup sent to offline CPU"
            : `IPI callback ${funcName(e.func)} sent to offline CPU`;
        this.warnings.warn("flush:offline-callback", c.id, m.now, line, c, {
          location: where,
          kernelText: line,
        });
      }
    }
    return head;
  }

  /**
   * The flush as an iterator written by hand: the same steps, in the same order, as the generator
   *
   *     head = flushBegin(); if (!head) return;
   *     pass 1, SYNC entries (unlinked):  r = callbackBegin(e); r is code ? yield* r : spend or yield
   *                                       callbackNs (+ flushSetupNs the first time); callbackEnd; csdUnlock
   *     pass 2, the rest in order:        ASYNC: csdUnlock; callbackBegin; spend or yield; callbackEnd
   *                                       IRQ_WORK: yield* irqWorkSingle(e);  TTWU: set aside
   *     pass 3:                           yield* schedTtwuPending(ttwu)
   *
   * but with no generator object and the shared `FLUSH_STEP` result for every step it yields (results
   * of code it delegates to are passed on as they are, as `yield*` does).
   */
  private static readonly QueueFlush = class QueueFlush implements CpuCode<void> {
    private state = FLUSH_START;
    private head: CallSingleData | null = null;
    private prev: CallSingleData | null = null;
    private e: CallSingleData | null = null;
    private ttwuHead: CallSingleData | null = null;
    private ttwuTail: CallSingleData | null = null;
    /** The flush's list setup cost, paid with the first callback's step (one step less per flush). */
    private setupNs = 0;
    /** Code a step delegates to (a callback written as a generator, irq_work, the ttwu batch). */
    private inner: CpuCode<void> | null = null;
    /** What finishes the callback of the step just taken: FLUSH_AFTER_*. */
    private after = FLUSH_AFTER_NONE;
    private cur: CallSingleData | null = null;
    private curFunc: SmpCallFunc | null = null;
    private warnCpuOffline = false;
    private from: "irq" | "idle" | "dying" = "irq";
    /** Back in the kernel's free list (set when it finishes; cleared when handed out again). */
    private released = false;

    constructor(private readonly k: SmpKernel) {}

    /** Hand it out (again) for one flush, not started. */
    reset(warnCpuOffline: boolean, from: "irq" | "idle" | "dying"): this {
      this.state = FLUSH_START;
      this.head = this.prev = this.e = this.ttwuHead = this.ttwuTail = null;
      this.setupNs = 0;
      this.inner = null;
      this.after = FLUSH_AFTER_NONE;
      this.cur = null;
      this.curFunc = null;
      this.warnCpuOffline = warnCpuOffline;
      this.from = from;
      this.released = false;
      return this;
    }

    [Symbol.iterator](): this {
      return this;
    }

    return(): IteratorReturnResult<void> {
      this.state = FLUSH_DONE;
      this.inner = null;
      return { done: true, value: undefined };
    }

    throw(e: unknown): never {
      this.state = FLUSH_DONE;
      throw e;
    }

    // Stryker disable next-line BlockStatement: never called (the Generator type asks for it; nothing disposes a kernel iterator)
    [Symbol.dispose](): void {
      this.return();
    }

    /** Finish the callback whose step just ended (callbackEnd; a SYNC entry is unlocked after it). */
    private finish(): void {
      const after = this.after;
      this.after = FLUSH_AFTER_NONE;
      this.k.callbackEnd(this.curFunc!, this.cur);
      if (after === FLUSH_AFTER_SYNC) this.k.csdUnlock(this.cur!);
    }

    next(): IteratorResult<Step, void> {
      const k = this.k;
      const m = k.machine;
      for (;;) {
        if (this.inner !== null) {
          const r = this.inner.next();
          if (r.done !== true) return r;
          this.inner = null;
        }
        if (this.after !== FLUSH_AFTER_NONE) this.finish();
        switch (this.state) {
          case FLUSH_START: {
            const head = k.flushBegin(this.warnCpuOffline, this.from);
            if (head === null) {
              this.state = FLUSH_DONE;
              continue;
            }
            this.head = head;
            this.e = head;
            this.setupNs = m.cost.flushSetupNs;
            this.state = FLUSH_SYNC;
            continue;
          }
          case FLUSH_SYNC: {
            // Pass 1: synchronous entries, someone spins on them.
            const e = this.e;
            if (e === null) {
              this.e = this.head;
              this.state = FLUSH_REST;
              continue;
            }
            const next: CallSingleData | null = e.next;
            this.e = next;
            if ((e.flags & CSD_FLAG_TYPE_MASK) !== CSD_TYPE_SYNC) {
              this.prev = e;
              continue;
            }
            if (this.prev === null) this.head = next;
            else this.prev.next = next;
            const func = e.func!;
            this.cur = e;
            this.curFunc = func;
            this.after = FLUSH_AFTER_SYNC;
            const r = k.callbackBegin(func, e.info, e, e.queuedAt);
            if (this.step(r)) continue;
            return FLUSH_STEP;
          }
          case FLUSH_REST: {
            // Pass 2: the rest, in order (irq_work among the ASYNC entries); TTWU entries set aside.
            const e = this.e;
            if (e === null) {
              this.state = FLUSH_DONE;
              const tail = this.ttwuTail;
              if (tail !== null) {
                tail.next = null;
                this.inner = k.schedTtwuPending(this.ttwuHead!);
              }
              continue;
            }
            const next: CallSingleData | null = e.next;
            this.e = next;
            const type = e.flags & CSD_FLAG_TYPE_MASK;
            if (type === CSD_TYPE_ASYNC) {
              const func = e.func!;
              const info = e.info;
              const queuedAt = e.queuedAt;
              k.csdUnlock(e);
              this.cur = e;
              this.curFunc = func;
              this.after = FLUSH_AFTER_ASYNC;
              const r = k.callbackBegin(func, info, e, queuedAt);
              if (this.step(r)) continue;
              return FLUSH_STEP;
            }
            if (type === CSD_TYPE_IRQ_WORK) {
              this.inner = k.irqWorkSingle(e);
              continue;
            }
            // A remote wake-up: kept, in order, for the third pass.
            if (this.ttwuTail === null) this.ttwuHead = e;
            else this.ttwuTail.next = e;
            this.ttwuTail = e;
            continue;
          }
          default:
            // Finished: back to the free list, once (whoever stepped it drops it now, as `yield*` does).
            if (!this.released) {
              this.released = true;
              this.cur = this.curFunc = this.head = this.prev = this.ttwuHead = this.ttwuTail = null;
              k.freeFlushes.push(this);
            }
            return ITER_DONE;
        }
      }
    }

    /**
     * The callback returned `r`: code to delegate to, or nothing, and then its time is spent here
     * when the fast path allows (returns true: go on) or yielded (false: `FLUSH_STEP` holds the ns).
     */
    private step(r: void | CpuCode<void>): boolean {
      const ns = this.k.machine.cost.callbackNs + this.setupNs;
      this.setupNs = 0;
      if (isCpuCode(r)) {
        this.inner = r;
        return true;
      }
      // Stryker disable next-line ConditionalExpression: spending inline or yielding the same ns is equivalent by design (the fast path)
      if (this.k.machine.spendInline(ns)) return true;
      FLUSH_STEP.value = ns;
      return false;
    }
  };

  // ------------------------------------------------------------------ irq_work and remote wake-ups

  /** irq_work_single (flush pass 2, in queue order with the ASYNC entries): clear PENDING, then run the work. */
  private *irqWorkSingle(w: CallSingleData): CpuCode<void> {
    const m = this.machine;
    const cpu = m.current;
    const func = w.func!;
    const info = w.info;
    this.csdUnlock(w);
    if (this.weak) this.memory.irqWorkSingleMb(cpu);
    this.stats.irqWorkRun++;
    const c = m.cpus[cpu];
    c.codeLabel = "callback";
    c.codeCallback = func;
    c.codeLabelDepth = c.depth;
    const r = func(info, cpu);
    if (isCpuCode(r)) yield* r;
    else yield m.cost.callbackNs;
    c.codeLabel = null;
  }

  /**
   * sched_ttwu_pending (flush pass 3): every queued wake-up in one batch — each task activated
   * here, then, on a CPU in its idle task, need_resched set (resched_curr from the idle class's
   * check_preempt_curr: the idle task leaves its loop). On a CPU running a task program the flag is
   * left alone, as `reschedCurr` leaves it: whether a woken task preempts a running one is the
   * scheduler's choice, which the model does not make, and nothing would clear the flag there.
   */
  private *schedTtwuPending(ttwu: CallSingleData): CpuCode<void> {
    const m = this.machine;
    const cpu = m.current;
    // Mainline runs the batch through csd_do_func(sched_ttwu_pending, list, first entry): the
    // csd_function_entry/exit pair around it names the first wake-up entry (6.1 calls it bare).
    const traced = this.profile.smpTracepoints && m.trace.enabled;
    if (traced)
      m.trace.emit(m.now, cpu, m.cpus[cpu], "csd_function_entry", {
        func: "sched_ttwu_pending",
        csd: ttwu.hex,
      });
    let n = 0;
    for (let t: CallSingleData | null = ttwu; t !== null;) {
      const next: CallSingleData | null = t.next;
      const task = t.info as WakeTask;
      this.csdUnlock(t);
      task.wakeups++;
      task.lastCpu = cpu;
      n++;
      if (task.onWake !== null) task.onWake(task, cpu);
      t = next;
    }
    this.stats.ttwuActivated += n;
    this.stats.ttwuBatches++;
    // resched_curr: the woken tasks preempt the idle task (it leaves its loop).
    const c = m.cpus[cpu];
    if (c.idle) c.needResched = true;
    yield m.cost.flushSetupNs + n * m.cost.callbackNs;
    if (traced)
      m.trace.emit(m.now, cpu, m.cpus[cpu], "csd_function_exit", {
        func: "sched_ttwu_pending",
        csd: ttwu.hex,
      });
  }

  /** init_irq_work: an irq_work running `func(info, cpu)` on the CPU it is queued on (`irqWorkQueueOn`). */
  initIrqWork<I>(func: SmpCallFunc<I>, info?: I): CallSingleData {
    checkFunc("initIrqWork", "func", func);
    return new CallSingleData(this.nextCsdId++, "irq_work", -1, func as SmpCallFunc, info, this.csdTimes);
  }

  /**
   * irq_work_queue_on: queue `work` (from `initIrqWork`) on another CPU's call queue as a
   * CSD_TYPE_IRQ_WORK entry (an IPI only if that queue was empty, none for a polling idle CPU).
   * Returns false, queueing nothing, while it is still pending from an earlier queueing. An
   * offline target gets the kernel's WARN_ON_ONCE and the work is queued anyway (it runs if the
   * CPU comes back). Queueing on the calling CPU itself (the kernel's local irq_work list and its
   * self-interrupt) is not modelled: it throws.
   */
  *irqWorkQueueOn(work: CallSingleData, cpu: number): CpuCode<boolean> {
    checkCpuId("irqWorkQueueOn", cpu);
    if (!(work instanceof CallSingleData) || work.owner !== "irq_work")
      throw new InvalidArgumentError(
        `irqWorkQueueOn: work must come from kernel.initIrqWork(func, info), got ${describeValue(work)}`,
      );
    const m = this.machine;
    const c = m.currentCpu();
    if (cpu < 0 || cpu >= m.nrCpus)
      throw new InvalidArgumentError(`irqWorkQueueOn: CPU ${cpu} does not exist (0..${m.nrCpus - 1})`);
    if (cpu === c.id)
      throw new InvalidArgumentError(
        `irqWorkQueueOn: CPU ${cpu} is the calling CPU; local irq_work (irq_work_queue and its self-interrupt) is not modelled: queue it on another CPU`,
      );
    if (!m.cpus[cpu].online)
      this.warnAt(
        "irq-work-offline",
        "irq_work_queue_on:offline",
        c,
        `irq_work_queue_on to offline CPU ${cpu}: all work should have been flushed before it went offline`,
      );
    if (work.locked) return false;
    if (this.weak && !this.memory.irqWorkClaim(c.id, work, CSD_FLAG_LOCK | CSD_TYPE_IRQ_WORK)) return false;
    work.flags = CSD_FLAG_LOCK | CSD_TYPE_IRQ_WORK;
    work.src = c.id;
    work.dst = cpu;
    m.preemptDisable();
    yield* this.smpCallSingleQueue(cpu, work, "irq_work_queue_on");
    m.preemptEnable();
    return true;
  }

  /** A task other CPUs can wake with `ttwuQueueWakelist`; `onWake` runs on the CPU that activates it. */
  initTask(name: string, onWake?: (task: WakeTask, cpu: number) => void): WakeTask {
    if (typeof name !== "string" || name === "")
      throw new InvalidArgumentError(`initTask: name must be a non-empty string, got ${describeValue(name)}`);
    if (onWake !== undefined) checkFunc("initTask", "onWake", onWake);
    return new WakeTask(name, this.nextCsdId++, onWake ?? null, this.csdTimes);
  }

  /**
   * ttwu_queue_wakelist: wake `task` on `cpu` by queueing its wake entry (CSD_TYPE_TTWU) on that
   * CPU's call queue, under the task's pi_lock (interrupts off); an IPI goes out only if the queue
   * was empty, and not to a polling idle CPU. The target activates it in the flush's third pass.
   * Returns false, queueing nothing, where 6.1 would not use the wake list for reasons the model
   * knows: the target is the caller, not a CPU of this machine, or not active (offline, or asked
   * down with `cpuDown` and not back up: 6.1's ttwu_queue_cond tests cpu_active, which cpu_down
   * clears before stop_machine), or the task is already being woken. The scheduler state the model
   * does not keep is not asked: 6.1 also refuses a target in the caller's LLC that has a task
   * running (`nr_running`), one outside the task's affinity, and all of them without the
   * TTWU_QUEUE feature (off under PREEMPT_RT); callers decide those (docs/architecture.md).
   */
  *ttwuQueueWakelist(cpu: number, task: WakeTask): CpuCode<boolean> {
    checkCpuId("ttwuQueueWakelist", cpu);
    if (!(task instanceof WakeTask))
      throw new InvalidArgumentError(
        `ttwuQueueWakelist: task must come from kernel.initTask(name), got ${describeValue(task)}`,
      );
    const m = this.machine;
    const self = m.smpProcessorId();
    if (cpu < 0 || cpu >= m.nrCpus || cpu === self || !this.cpuActive(cpu) || task.waking) return false;
    const entry = task.wakeEntry;
    entry.flags = CSD_FLAG_LOCK | CSD_TYPE_TTWU;
    entry.src = self;
    entry.dst = cpu;
    const was = m.localIrqSave("try_to_wake_up", "ttwu_queue_wakelist");
    // Mainline's tracepoints name the caller of __smp_call_single_queue: __ttwu_queue_wakelist, a
    // one-caller static function inlined into this one (real traces name ttwu_queue_wakelist).
    yield* this.smpCallSingleQueue(cpu, entry, "ttwu_queue_wakelist");
    m.localIrqRestore(was, "try_to_wake_up", "ttwu_queue_wakelist");
    return true;
  }

  /**
   * csd_do_func, first half: `csd_function_entry`, latency, and the call itself. Returns what the
   * callback returned: a generator to drive with `yield*`, or nothing (then the caller yields the
   * cost model's callback time). Split this way so a plain callback costs no generator object.
   */
  private callbackBegin(
    func: SmpCallFunc,
    info: unknown,
    csd: CallSingleData | null,
    queuedAt: number,
    traced: CallSingleData | null = csd,
  ): void | CpuCode<void> {
    const m = this.machine;
    const cpu = m.current;
    // Stryker disable next-line ConditionalExpression: equivalent, emit() ignores a disabled trace (the test only saves building the record)
    if (m.trace.enabled)
      m.trace.emit(m.now, cpu, m.cpus[cpu], "csd_function_entry", {
        func: funcName(func),
        csd: traced ? traced.hex : "local",
      });
    if (queuedAt >= 0) this.stats.latency.record(m.now - queuedAt);
    else this.stats.callbacksLocal++;
    const c = m.cpus[cpu];
    c.codeLabel = "callback";
    c.codeCallback = func;
    // Stryker disable next-line ConditionalExpression,LogicalOperator: equivalent, the watchdog, which alone reads curCsd, runs only when its timeout is not 0
    if (csd !== null && this.trackCurCsd) {
      // __csd_lock_record: func and info are copied, as they were when the callback started.
      this.csdWatchdog.curCsdFunc[cpu] = func;
      this.csdWatchdog.curCsdInfo[cpu] = info;
      this.curCsd[cpu] = csd;
    }
    c.codeLabelDepth = c.depth;
    return func(info, cpu);
  }

  /** csd_do_func, second half: `csd_function_exit` (naming `traced`, as the entry did) and the counters. */
  private callbackEnd(func: SmpCallFunc, traced: CallSingleData | null): void {
    const m = this.machine;
    const cpu = m.current;
    // Stryker disable next-line ConditionalExpression: equivalent, emit() ignores a disabled trace (the test only saves building the record)
    if (m.trace.enabled)
      m.trace.emit(m.now, cpu, m.cpus[cpu], "csd_function_exit", {
        func: funcName(func),
        csd: traced ? traced.hex : "local",
      });
    const stats = this.stats;
    stats.callbacksRun++;
    stats.perCpuDirty = true;
    const c = m.cpus[cpu];
    c.kernelCallbacks++;
    c.codeLabel = null;
    // Stryker disable next-line ConditionalExpression: equivalent, the watchdog, which alone reads curCsd, runs only when its timeout is not 0
    if (this.trackCurCsd) this.curCsd[cpu] = null;
  }

  /**
   * csd_do_func as one generator, for the paths that are not hot (local calls). `csd` is the one
   * recorded as this CPU's `cur_csd`; `traced` the one its tracepoints name (null: none, as
   * mainline's local calls pass NULL).
   */
  private *csdDoFunc(
    func: SmpCallFunc,
    info: unknown,
    csd: CallSingleData | null,
    queuedAt: number,
    traced: CallSingleData | null = csd,
  ): CpuCode<void> {
    const r = this.callbackBegin(func, info, csd, queuedAt, traced);
    if (isCpuCode(r)) yield* r;
    else yield this.machine.cost.callbackNs;
    this.callbackEnd(func, traced);
  }

  // ------------------------------------------------------------------ idle and hotplug

  /** The idle task (see `doIdle`): sleeps as `idleMode` says; flushes the queue when it leaves on need_resched. */
  private idleLoop(cpu: number): CpuCode<void> {
    return this.idleWaits[cpu].restart();
  }

  /**
   * cpu_down: take `cpu` offline through stop_machine, as the kernel does. The request returns at
   * once (0); the CPU goes down once every online CPU has reached a point where it can be
   * preempted — so a sender that saw it online (every sender runs with preemption disabled) has
   * finished queueing first. Then, with every CPU's interrupts off, `take_cpu_down` runs on it:
   * it leaves the online mask (later calls get -ENXIO, masks skip it), flushes its queue without
   * the offline warning (smpcfd_dying_cpu) and is dead until `cpuUp`. Code calling this from a
   * CPU should yield (e.g. `yield 0`) so its own CPU can be stopped. Before the run starts it
   * takes effect at once. Returns -EINVAL for a CPU that is not (or will not be) online, -EBUSY
   * for the last online CPU. Hotplug requests are served in order.
   */
  cpuDown(cpu: number): number {
    const m = this.machine;
    const will = this.hotplugTarget();
    // Stryker disable next-line ConditionalExpression,LogicalOperator,EqualityOperator: equivalent, `will[cpu]` is undefined for any id that is not a CPU (-1, 1.5, NaN, nr_cpu_ids), so -EINVAL either way; the range test says so explicitly
    if (!Number.isInteger(cpu) || cpu < 0 || cpu >= m.nrCpus || !will[cpu]) return -EINVAL;
    if (will.reduce((n, on) => n + on, 0) === 1) return -EBUSY;
    will[cpu] = 0;
    (this.hotplugInactive ??= new Uint8Array(m.nrCpus))[cpu] = 1;
    if (!m.hasStarted) {
      m.cpus[cpu].online = false;
      m.onlineMask.clear(cpu);
      m.markDead(cpu);
      return 0;
    }
    m.stopMachine(cpu, () => this.takeCpuDown(cpu), `take_cpu_down of CPU ${cpu}`);
    return 0;
  }

  /** take_cpu_down on the dying CPU, every other CPU stopped with interrupts off. */
  private *takeCpuDown(cpu: number): CpuCode<void> {
    const m = this.machine;
    m.cpus[cpu].online = false;
    m.onlineMask.clear(cpu);
    yield* this.flushQueue(false, "dying");
    m.markDead(cpu);
  }

  /**
   * cpu_up: bring an offline CPU back online. It takes the interrupts still pending (those its
   * backend's boot hooks left), then its idle task leaves its loop at once and flushes the call
   * queue: 6.1's bring-up wakes the CPU's hotplug thread there (bringup_wait_for_ap), so
   * need_resched is set, and anything queued while it was dead (an irq_work_queue_on, which
   * warned) runs then, even where the boot reset the IPI. Served after any cpuDown requested
   * before it. -EINVAL if it is (or will be) online.
   */
  cpuUp(cpu: number): number {
    const m = this.machine;
    const will = this.hotplugTarget();
    if (!Number.isInteger(cpu) || cpu < 0 || cpu >= m.nrCpus || will[cpu]) return -EINVAL;
    will[cpu] = 1;
    m.afterStops(() => {
      m.bringUp(cpu);
      // The hotplug thread's wake-up: need_resched on the CPU coming up (a run not started yet
      // has nothing queued, and its idle CPUs start asleep). A task program the CPU kept when it
      // went down (6.1 would have moved it away) finds the flag when it next goes idle.
      if (m.hasStarted) {
        m.cpus[cpu].needResched = true;
        if (this.weak) this.memory.idleSetNeedResched(cpu);
      }
      // sched_cpu_activate, the last step of cpu_up.
      if (this.hotplugInactive !== null) this.hotplugInactive[cpu] = 0;
    }, `bring_up of CPU ${cpu}`);
    return 0;
  }

  /**
   * cpu_active: online, and not asked down (`cpuDown`) since it came up. The scheduler stops
   * choosing a CPU that is not active (e.g. `ttwuQueueWakelist` refuses it).
   */
  cpuActive(cpu: number): boolean {
    return (
      this.machine.cpus[cpu].online && (this.hotplugInactive === null || this.hotplugInactive[cpu] === 0)
    );
  }

  /** Per CPU: 1 if it is online once every hotplug request made so far is served. */
  private hotplugTarget(): Uint8Array {
    if (this.hotplugWill === null) {
      const m = this.machine;
      this.hotplugWill = new Uint8Array(m.nrCpus);
      for (let i = 0; i < m.nrCpus; i++) this.hotplugWill[i] = m.cpus[i].online ? 1 : 0;
    }
    return this.hotplugWill;
  }

  private checkQueuesEmpty(): RunProblem[] {
    const out: RunProblem[] = [];
    const m = this.machine;
    for (let cpu = 0; cpu < m.nrCpus; cpu++) {
      if (this.callSingleQueue.isEmpty(cpu)) continue;
      const entries = this.callSingleQueue.entries(cpu);
      const oldest = entries[entries.length - 1];
      out.push({
        kind: "lost-call",
        time: m.now,
        cpu,
        message: `CPU ${cpu}'s call queue still holds ${entries.length} csd(s) at the end of the run (oldest: csd#${oldest.id} ${funcName(oldest.func)} from CPU ${oldest.src}): ${m.panicked ? "left queued when the kernel panicked" : "its IPI was lost or never taken"}${m.cpus[cpu].dead ? " (the CPU is offline)" : ""}`,
      });
    }
    return out;
  }
}

/** Is `x` an async iterable (an async generator object, `async *method()`)? */
function isAsyncIterable(x: unknown): boolean {
  return (
    typeof x === "object" &&
    x !== null &&
    typeof (x as AsyncIterable<unknown>)[Symbol.asyncIterator] === "function"
  );
}
