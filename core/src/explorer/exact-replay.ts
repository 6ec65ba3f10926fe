import { UsageError } from "../errors";
import { RecordingChooser } from "./choosers";

/**
 * A schedule does not fit the run it drives: it runs out of choices (truncated), has choices
 * left when the run ends (over-long), or names an option that does not exist there. `index` is
 * the 0-based choice concerned, so a caller can name its position in the schedule string.
 */
export class ScheduleMismatch extends UsageError {
  constructor(
    message: string,
    /** The choice concerned (0-based). */
    readonly index: number,
  ) {
    super(message, "SMPCALL_USAGE");
  }
}

/**
 * A schedule's choices fit the run, but the run ends otherwise than when explore recorded it
 * (the schedule's `end` field): the backend, its option defaults, the scenario or the kernel
 * model changed since, and the replay would show a different run than the one reported.
 */
export class ScheduleDiverged extends UsageError {
  constructor(message: string) {
    super(message, "SMPCALL_USAGE");
  }
}

/**
 * Replays exactly the given choices: a run that needs a choice past their end, or an option
 * that does not exist, throws {@link ScheduleMismatch} instead of guessing; `unused` tells how
 * many were left over once the run ended.
 */
export class ExactReplayChooser extends RecordingChooser {
  readonly name = "replay";
  constructor(
    private readonly schedule: readonly number[],
    /** The schedule's fault bound (its `fault-bound` field; absent: unbounded, as before the field existed). */
    faultBound = Number.POSITIVE_INFINITY,
  ) {
    super();
    this.faultBound = faultBound;
  }

  /** A forced "no fault" reads the schedule's choice too: it must be there, and be 0. */
  protected override forcedNoFault(index: number): void {
    this.decide(1, index);
  }

  /** Choices the run did not consume (an over-long schedule when > 0 at the end). */
  get unused(): number {
    return this.schedule.length - this.choices.length;
  }

  protected decide(n: number, index: number): number {
    if (index >= this.schedule.length)
      throw new ScheduleMismatch(
        `truncated: the run needs choice ${index + 1}, but the schedule has only ${this.schedule.length}`,
        index,
      );
    const k = this.schedule[index];
    if (k >= n)
      throw new ScheduleMismatch(
        n === 1 && this.faultsUsed >= this.faultBound
          ? `choice ${index + 1} is ${k}, an injected fault, but the run has taken the ${this.faultBound} its fault bound allows (the schedule's fault-bound field): the schedule does not match this run`
          : `choice ${index + 1} is ${k} but only ${n} options exist there: the schedule does not match this scenario, policy, backend or CPU count`,
        index,
      );
    return k;
  }
}
