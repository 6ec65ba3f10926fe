import type { RunOutcome } from "../machine/machine";
import type { SmpSystem } from "../system";
import { fmt, probeOf } from "./probe";
import { ConformanceFailure } from "./types";
import { wallNow } from "./nondeterminism";

/** Events one machine run of a check may dispatch before the check fails (default). */
export const DEFAULT_KIT_EVENT_BUDGET = 2_000_000;
/** The event budget once a check has run out: the backend is known not to finish, later checks fail sooner. */
export const KIT_EVENT_BUDGET_AFTER_RUNOUT = 250_000;
/** Wall-clock time one check may take before it fails (default, ms). */
export const DEFAULT_KIT_CHECK_WALL_MS = 20_000;

/** A check ran out of its event budget or its wall-clock time: the message says what the backend was doing. */
export class KitBudgetExceeded extends ConformanceFailure {
  constructor(message: string) {
    super(message);
    this.name = "KitBudgetExceeded";
  }
}

/**
 * The kit's guard against backends that never finish: every machine run of a check gets an
 * event budget, and the check as a whole a wall-clock limit (checked every few thousand events).
 * Running out throws {@link KitBudgetExceeded} naming the check, the budget and what the backend
 * was doing (which CPU is inside which backend method, since when).
 */
export class KitGuard {
  /** The check running now (set by the runner). */
  check = "";
  private deadline = Number.POSITIVE_INFINITY;
  /** A run has run out of its budget: the backend does not finish, so later runs get a smaller one. */
  private ranOut = false;

  constructor(
    /** Events per machine run. */
    readonly eventBudget: number = DEFAULT_KIT_EVENT_BUDGET,
    /** Wall-clock ms per check. */
    readonly wallMs: number = DEFAULT_KIT_CHECK_WALL_MS,
  ) {}

  /** Rules a run of the running check broke that fail it only if it finds nothing else (see {@link end}). */
  private later: string[] = [];

  /** A check starts: its wall-clock limit starts now. */
  begin(check: string): void {
    this.check = check;
    this.deadline = wallNow() + this.wallMs;
    this.later = [];
  }

  /**
   * The running check found nothing: fail it with the first rule one of its runs broke that the
   * probe keeps for last (a spurious call-function message), if any.
   */
  end(): void {
    const first = this.later[0];
    this.later = [];
    if (first !== undefined) throw new ConformanceFailure(first);
  }

  /** Has the running check used up its wall-clock time? */
  get overTime(): boolean {
    return wallNow() > this.deadline;
  }

  /**
   * The event budget of the next run: `eventBudget`, or once some run has run out (the backend
   * does not finish) the smaller of it and 250,000 (25 times the most any check needs on the
   * built-in backends), so a livelocking backend fails the whole kit in seconds.
   */
  get budget(): number {
    return this.ranOut ? Math.min(this.eventBudget, KIT_EVENT_BUDGET_AFTER_RUNOUT) : this.eventBudget;
  }

  /** Run options that enforce the budget: the event limit and a wall-clock test every 4096 events. */
  runOptions(
    sys: SmpSystem,
    what: string,
  ): { maxEvents: number; onProgress: () => void; progressEvery: number } {
    return {
      maxEvents: this.budget,
      progressEvery: 4096,
      onProgress: () => {
        if (this.overTime) throw this.exceeded(sys, what, "wall");
      },
    };
  }

  /** Run `sys` under the budget; a step-limit outcome becomes a {@link KitBudgetExceeded}. */
  run(sys: SmpSystem, what: string): RunOutcome {
    probeOf(sys.machine)?.statisticsBefore(sys.arch);
    return this.settle(sys, what, sys.run(this.runOptions(sys, what)));
  }

  /** Turn a step-limit outcome of a guarded run into a failure; other outcomes pass through. */
  settle(sys: SmpSystem, what: string, out: RunOutcome): RunOutcome {
    if (out.status === "step-limit") throw this.exceeded(sys, what, "events");
    const probe = probeOf(sys.machine);
    probe?.statisticsAfter(sys.arch);
    const later = probe?.laterViolations ?? [];
    if (later.length > 0 && this.later.length === 0)
      this.later.push(
        `${what}: ${later[0]}${later.length > 1 ? ` (and ${later.length - 1} more such violation(s))` : ""}`,
      );
    const broken = probe?.contextViolations ?? [];
    if (broken.length > 0)
      throw new ConformanceFailure(
        `${what}: ${broken[0]}${broken.length > 1 ? ` (and ${broken.length - 1} more such violation(s))` : ""}`,
      );
    return out;
  }

  /** The failure for a run that ran out of `kind` budget. */
  exceeded(sys: SmpSystem, what: string, kind: "events" | "wall"): KitBudgetExceeded {
    const m = sys.machine;
    const used = this.budget;
    const lowered = used < this.eventBudget ? " (lowered after an earlier run ran out)" : "";
    this.ranOut = true;
    const budget =
      kind === "events"
        ? `its event budget of ${fmt(used)} events${lowered}`
        : `its wall-clock limit of ${this.wallMs >= 1000 ? `${fmt(this.wallMs / 1000)} s` : `${this.wallMs} ms`} (after ${fmt(m.eventsDispatched)} events)`;
    const doing = describeMachine(sys);
    return new KitBudgetExceeded(
      `${this.check}: ${what} ran out of ${budget} at t=${fmt(m.now)} ns; ${doing.join("; ")}: the backend never finishes (a handler or a retry loop that does not end?)`,
    );
  }
}

/** What the machine and the backend are doing, for a budget report. */
export function describeMachine(sys: SmpSystem): string[] {
  const m = sys.machine;
  const lineName = (l: number): string => sys.arch.lineName(l);
  const probe = probeOf(m);
  const out = probe?.describeActivity(lineName) ?? [];
  if (out.length === 0) {
    const irq: string[] = [];
    for (const c of m.cpus) if (c.hardirqDepth > 0) irq.push(`CPU ${c.id}`);
    if (irq.length > 0) out.push(`${irq.slice(0, 5).join(", ")} in an interrupt handler`);
    out.push(`${m.unfinishedPrograms} program(s) unfinished, no CPU inside a backend send or handler`);
  }
  if (probe && probe.hardwareCallbacks > 0)
    out.push(`the backend scheduled ${fmt(probe.hardwareCallbacks)} hardware callbacks`);
  if (probe) out.push(`${fmt(probe.raises)} line raise(s) so far`);
  return out;
}
