import type { KernelProfileName } from "../kernel/profile";
import type { ArchDescriptor } from "../arch/descriptor";
import type { RawArchOptions } from "../arch/options";
import type { IdleMode } from "../kernel/idle-loop";
import type { KitGuard } from "./guard";
import { ArchOptionError } from "../errors";

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
  /**
   * For a check with sizes of its own: null when the backend accepts at least one of them with
   * the run's options, else the refusal (the check is then skipped, `machine-size`, without
   * starting; a check without this hook that meets a refused size stops there the same way).
   */
  refusedSize?(ctx: ConformanceContext): string | null;
  run(ctx: ConformanceContext): void;
}

/** The outcome of one check. */
export interface ConformanceResult {
  readonly name: string;
  readonly status: "pass" | "fail" | "skipped";
  /** Failure message, or the reason it was skipped. */
  readonly message: string;
  readonly ms: number;
  /**
   * Why a skipped check did not run: `capability`, the backend declares nothing it could check
   * (it never started); `machine-size`, it needs a machine size the backend refuses with the
   * run's options (e.g. x86 `apic=flat` above 8 CPUs), so it stopped when it asked for one.
   */
  readonly skipReason?: "capability" | "machine-size";
}

/**
 * Thrown by the kit when the backend refuses (with an ArchOptionError from its option checks) a
 * machine size a check asked for: the check is skipped (`machine-size`), not failed, since the
 * backend said it cannot be such a machine. It is an ArchOptionError itself.
 */
export class KitMachineRefused extends ArchOptionError {
  constructor(
    /** The size the check asked for. */
    readonly cpus: number,
    /** The backend's refusal. */
    readonly refusal: string,
  ) {
    super(refusal);
    this.name = "KitMachineRefused";
  }

  /** Why the check did not run, as the kit reports it. */
  get explanation(): string {
    return `needs a ${this.cpus}-CPU machine, which the backend refuses with these options: ${this.refusal}`;
  }
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
