import type { Machine } from "../machine/machine";
import type { CpuCode } from "../machine/step";
import { CallCompletion } from "./call-completion";
import { funcName, type CallSingleData, type SmpCallFunc } from "./csd";
import type { KernelProfile } from "./profile";
import type { KernelStats } from "./stats";

/** A CSD wait the lock-wait watchdog reported. */
export interface StuckCsdReport {
  /** The kernel's bug number of this stuck wait (`#n` in its messages), counted per machine from 1. */
  readonly bugId: number;
  readonly waitingCpu: number;
  readonly targetCpu: number;
  readonly csd: number;
  readonly callback: string;
  /** How long this csd had been waited on at the first report (ns). */
  readonly waitedNs: number;
  readonly targetIrqsDisabled: boolean;
  /**
   * What the target was doing at the first report: "handling this request" (running this csd's
   * callback), "handling prior F request" (running another csd's callback), else the kernel's
   * "unresponsive" with what the target does: spinning on a wait, in a hard IRQ, idle, running,
   * offline.
   */
  readonly targetDoing: string;
  /** Times this wait was reported (the first "Detected", then "Continued"). */
  reports: number;
  /** IPIs the watchdog re-sent for this wait (only while the target ran no csd callback). */
  resends: number;
  /** Released in the end ("got unstuck")? */
  unstuck: boolean;
  /** The CPU the kernel names as having released the lock (the csd's target), once unstuck. */
  releasedBy?: number;
  /** The lines the kernel prints for this wait, in order (its `pr_alert` format strings); the first 1000. */
  readonly lines: string[];
  /** Lines printed beyond the ones kept in `lines`. */
  linesDropped: number;
}

/** Lines kept per stuck wait: a wait that never ends is reported for ever, as the kernel does. */
const MAX_LINES = 1000;

function cpu2(cpu: number): string {
  return String(cpu).padStart(2, "0");
}

function infoText(info: unknown): string {
  return typeof info === "string" || typeof info === "number" ? String(info) : "0x0";
}

/**
 * CONFIG_CSD_LOCK_WAIT_DEBUG's watchdog, as kernel/smp.c's `__csd_lock_wait` runs it: each csd
 * wait has its own clock (a many-call waits on its targets' csds in turn, each from the moment
 * the previous one was released); past the timeout the waiter reports ("Detected", later
 * "Continued"), says what the target is doing, re-sends the IPI straight through the arch — only
 * when the target runs no csd callback — and reports again at the profile's interval (6.1: every
 * timeout; mainline: timeout x (reports + 1) x (ilog2(online) / 2 + 1) after the first). A lock
 * released after a report "got unstuck".
 */
export class CsdLockWatchdog {
  /** The csd whose callback each CPU is running (`cur_csd`), or null. */
  readonly curCsd: (CallSingleData | null)[];
  /**
   * The callback and info of each CPU's `cur_csd` as they were when it started (`cur_csd_func`,
   * `cur_csd_info`): an ASYNC csd is unlocked before its callback runs, so its owner may refill it
   * meanwhile, and the report names what the target is running.
   */
  readonly curCsdFunc: (SmpCallFunc | null)[];
  readonly curCsdInfo: unknown[];
  /** Stuck waits reported, in order. */
  readonly reports: StuckCsdReport[] = [];
  private bugCount = 0;

  /**
   * @param timeoutNs `smp.csd_lock_timeout` in ns (0 = the watchdog is off: plain waits)
   * @param resend re-send the IPI on a report, as the kernel does
   * @param sendDirect `arch_send_call_function_single_ipi` (no polling check, no tracepoint)
   */
  constructor(
    private readonly machine: Machine,
    private readonly profile: KernelProfile,
    readonly timeoutNs: number,
    private readonly resend: boolean,
    private readonly stats: KernelStats,
    private readonly sendDirect: (cpu: number) => CpuCode<void>,
  ) {
    this.curCsd = new Array<CallSingleData | null>(machine.nrCpus).fill(null);
    this.curCsdFunc = new Array<SmpCallFunc | null>(machine.nrCpus).fill(null);
    this.curCsdInfo = new Array<unknown>(machine.nrCpus).fill(undefined);
  }

  /** How long after the last report (or the start of the wait) the next report comes. */
  reportIntervalNs(nmessages: number): number {
    const t = this.timeoutNs;
    if (nmessages === 0 || this.profile.watchdogInterval === "every-timeout") return t;
    const online = this.machine.onlineMask.weight();
    const ilog2 = 31 - Math.clz32(online);
    return t * (nmessages + 1) * (Math.floor(ilog2 / 2) + 1);
  }

  /**
   * When a wait whose clock was last reset at `ts1`, after `nmessages` reports, is reported: the
   * kernel reports once the time since `ts1` is more than the interval (`csd_lock_wait_toolong`
   * returns early while it is at most that), so 1 ns (the clock's step) past it.
   */
  private dueAt(ts1: number, nmessages: number): number {
    return ts1 + this.reportIntervalNs(nmessages) + 1;
  }

  /**
   * Spin on `wait` (a csd, or a many-call's completion whose csds are waited on in order) with
   * the watchdog; `stuck()` names the csd being waited on now (null once all are released).
   */
  *wait(wait: CallSingleData | CallCompletion, stuck: () => CallSingleData | null): CpuCode<void> {
    const m = this.machine;
    if (this.timeoutNs === 0) {
      yield wait;
      return;
    }
    const start = m.now;
    // A many-call's waiter stays parked while its csds are released in turn; the unlock of the
    // csd it is waiting on restarts its clock (see onHeadUnlocked).
    if (wait instanceof CallCompletion) wait.watcher = m.current;
    let cur = stuck();
    let ts0 = start;
    let ts1 = start;
    let nmessages = 0;
    let report: StuckCsdReport | null = null;
    while (cur !== null) {
      m.setWatchdogDeadline(this.dueAt(ts1, nmessages));
      yield wait;
      m.setWatchdogDeadline(0);
      const now = stuck();
      if (now !== cur) {
        if (report !== null) this.unstuck(report, cur);
        report = null;
        if (now === null) break;
        // The next csd's wait, and its clock, began when the previous csd was released.
        ts0 = ts1 = wait instanceof CallCompletion ? Math.max(start, wait.scannedUnlockAt) : start;
        nmessages = 0;
        cur = now;
        if (m.now < this.dueAt(ts1, 0)) continue;
        // The machine resumes a watched csd wait only when it is released or at its deadline
        // (dueAt), so this test is a guard that never holds.
        // Stryker disable next-line all: equivalent mutants (see above)
      } else if (m.now < this.dueAt(ts1, nmessages)) continue;
      report = this.report(cur, m.now - ts0, report);
      nmessages++;
      ts1 = m.now;
      // A csd waited on is in flight or was last queued: its target is a CPU of this machine.
      const dst = cur.dst;
      if (this.resend && dst !== m.current && this.curCsd[dst] === null) {
        report.resends++;
        this.stats.watchdogResends++;
        this.print(
          report,
          `csd: Re-sending CSD lock (#${report.bugId}) IPI from CPU#${cpu2(m.current)} to CPU#${cpu2(dst)}`,
        );
        const c = m.cpus[m.current];
        c.inWatchdogResend = true;
        yield* this.sendDirect(dst);
        c.inWatchdogResend = false;
      }
    }
    if (wait instanceof CallCompletion) wait.watcher = -1;
  }

  /**
   * The csd a many-call's waiter is waiting on now (the first still locked) was released: the
   * waiter moves on to the next csd, whose clock starts now, so its deadline moves to just past
   * now + timeout without waking it.
   */
  onHeadUnlocked(done: CallCompletion): void {
    const c = this.machine.cpus[done.watcher];
    // Without the move the waiter wakes at the old deadline, finds the new csd's clock not run
    // out and parks again: the same reports, one wake-up more.
    // Stryker disable next-line all: equivalent mutants (see above)
    if (c.watchdogDeadline !== 0) c.watchdogDeadline = this.dueAt(this.machine.now, 0);
  }

  /** Keep a printed line (the first MAX_LINES of a wait; the rest are counted). */
  private print(report: StuckCsdReport, line: string): void {
    if (report.lines.length < MAX_LINES) report.lines.push(line);
    else report.linesDropped++;
  }

  private unstuck(report: StuckCsdReport, csd: CallSingleData): void {
    report.unstuck = true;
    report.releasedBy = csd.dst;
    this.print(
      report,
      `csd: CSD lock (#${report.bugId}) got unstuck on CPU#${cpu2(this.machine.current)}, CPU#${cpu2(csd.dst)} released the lock.`,
    );
  }

  /** What the target of `csd` is doing, as the kernel's second report line puts it (plus our detail). */
  private targetDoing(csd: CallSingleData): { line: string; doing: string } {
    const cur = this.curCsd[csd.dst];
    if (cur !== null && cur !== csd) {
      const what = `handling prior ${funcName(this.curCsdFunc[csd.dst])}(${infoText(this.curCsdInfo[csd.dst])}) request`;
      return { line: what, doing: what };
    }
    if (cur === csd) return { line: "handling this request", doing: "handling this request" };
    const t = this.machine.cpus[csd.dst];
    const detail = t.dead
      ? "offline"
      : t.waiting !== null && t.waiting.isCsdWait
        ? `spinning on ${t.waiting.describe()}`
        : t.hardirqDepth > 0
          ? "in a hard IRQ"
          : t.idle
            ? "idle"
            : t.waiting !== null
              ? `spinning on ${t.waiting.describe()}`
              : "running";
    return { line: "unresponsive", doing: `unresponsive (${detail})` };
  }

  private report(csd: CallSingleData, waitedNs: number, prev: StuckCsdReport | null): StuckCsdReport {
    const m = this.machine;
    const firstTime = prev === null;
    const bugId = prev?.bugId ?? ++this.bugCount;
    const { line, doing } = this.targetDoing(csd);
    const target = m.cpus[csd.dst];
    const r: StuckCsdReport = prev ?? {
      bugId,
      waitingCpu: m.current,
      targetCpu: csd.dst,
      csd: csd.id,
      callback: funcName(csd.func),
      waitedNs,
      targetIrqsDisabled: target.irqsDisabled,
      targetDoing: doing,
      reports: 0,
      resends: 0,
      unstuck: false,
      lines: [],
      linesDropped: 0,
    };
    r.reports++;
    this.print(
      r,
      `csd: ${firstTime ? "Detected" : "Continued"} non-responsive CSD lock (#${bugId}) on CPU#${m.current}, waiting ${waitedNs} ns for CPU#${cpu2(csd.dst)} ${r.callback}(${infoText(csd.info)}).`,
    );
    this.print(r, `\tcsd: CSD lock (#${bugId}) ${line}.`);
    if (firstTime) {
      this.reports.push(r);
      const message = `csd: Detected non-responsive CSD lock (#${bugId}) on CPU#${m.current}, waiting ${waitedNs} ns for CPU#${csd.dst} ${r.callback}; target irqs ${r.targetIrqsDisabled ? "off" : "on"}, ${doing}`;
      m.reportProblem({ kind: "stuck-csd", time: m.now, cpu: m.current, message });
    }
    return r;
  }
}
