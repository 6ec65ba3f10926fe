import type { KernelProfileName } from "../kernel/profile";
import type { ArchDescriptor } from "../arch/descriptor";
import type { RawArchOptions } from "../arch/options";
import type { IdleMode } from "../kernel/idle-loop";
import type { KitGuard } from "./guard";

/** What every check gets: the backend under test and the machine sizes to use. */
export interface ConformanceContext {
  readonly descriptor: ArchDescriptor;
  /** Options every system of the run is built with (e.g. a platform choice). */
  readonly options: RawArchOptions;
  /** Kernel profile every system of the run is built with. */
  readonly kernel?: KernelProfileName;
  /** How idle CPUs sleep in the kit's machines (`halt` unless asked: idle targets then need IPIs). */
  readonly idle?: IdleMode;
  /** Machine sizes for the mask checks (default 2, 3, 64, 1024, 8192). */
  readonly cpuSizes: readonly number[];
  /** Seeds for the random-schedule check. */
  readonly schedules: number;
  /** The event budget and wall-clock limit every machine run of a check runs under. */
  readonly guard: KitGuard;
}

/**
 * One named check. `applies` returns null when the check applies to the backend, or the reason
 * it does not (from the declared capabilities). `run` throws a ConformanceFailure (or any error)
 * saying what was expected and what happened.
 */
export interface ConformanceCheck {
  readonly name: string;
  readonly description: string;
  applies?(ctx: ConformanceContext): string | null;
  run(ctx: ConformanceContext): void;
}

/** The outcome of one check. */
export interface ConformanceResult {
  readonly name: string;
  readonly status: "pass" | "fail" | "skipped";
  /** Failure message, or the reason it was skipped. */
  readonly message: string;
  readonly ms: number;
}

/** A check's failure: what was expected and what happened. */
export class ConformanceFailure extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConformanceFailure";
  }
}

/** Throw a ConformanceFailure unless `ok`. */
export function expectThat(ok: boolean, message: () => string): asserts ok {
  if (!ok) throw new ConformanceFailure(message());
}
