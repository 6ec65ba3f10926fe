import { ConformanceFailure } from "./types";

/** The real clock, kept before any check can replace `performance.now` (the kit's own wall-clock limits use it). */
const realPerformanceNow: () => number = performance.now.bind(performance);

/** Wall-clock ms from the real `performance.now`, whatever a check has replaced it with. */
export function wallNow(): number {
  return realPerformanceNow();
}

/** A property of a global object the tripwire replaces, and what it was. */
interface Replaced {
  readonly owner: object;
  readonly key: string;
  readonly had: PropertyDescriptor | undefined;
}

/**
 * While a check runs, the sources of values a seeded run must never depend on (`Math.random`,
 * `Date.now`, `new Date()` and `Date()` without arguments, `performance.now`, `process.hrtime`
 * and `process.hrtime.bigint`) are replaced by versions that give the real value and note who
 * asked: a backend that jitters with `Math.random` only on a path one check's runs take (a
 * reschedule, a CPU coming back, a machine of more than 16 CPUs) gives runs that differ from one
 * another even when `same-seed-same-trace`, whose runs do not take that path, sees identical ones.
 * The kit's own code uses none of them during a check ({@link wallNow} for its limits).
 */
export class NondeterminismTripwire {
  private readonly replaced: Replaced[] = [];
  private calls = 0;
  private readonly sources = new Set<string>();
  private first = "";

  /** Replace the globals (call {@link uninstall} in a `finally`). */
  install(): void {
    const note = (what: string): void => {
      this.calls++;
      this.sources.add(what);
      if (this.first === "") this.first = `${what}${callerOf(new Error().stack)}`;
    };
    const realRandom = Math.random;
    this.replace(Math, "random", () => {
      note("Math.random()");
      return realRandom();
    });
    const RealDate = Date;
    const realDateNow = RealDate.now.bind(RealDate);
    const dateNow = (): number => {
      note("Date.now()");
      return realDateNow();
    };
    const TrippedDate = new Proxy(RealDate, {
      construct(target, args: unknown[], newTarget: NewableFunction) {
        if (args.length === 0) note("new Date()");
        return Reflect.construct(target, args, newTarget) as object;
      },
      apply(target, self, args: unknown[]) {
        note("Date()");
        return Reflect.apply(target, self, args) as unknown;
      },
      get(target, prop, receiver) {
        if (prop === "now") return dateNow;
        return Reflect.get(target, prop, receiver) as unknown;
      },
    });
    this.replace(globalThis, "Date", TrippedDate);
    this.replace(performance, "now", () => {
      note("performance.now()");
      return realPerformanceNow();
    });
    if (typeof process === "object" && typeof process.hrtime === "function") {
      const realHrtime = process.hrtime;
      const realBigint = process.hrtime.bigint.bind(process.hrtime);
      const hrtime = (time?: [number, number]): [number, number] => {
        note("process.hrtime()");
        return realHrtime(time);
      };
      hrtime.bigint = (): bigint => {
        note("process.hrtime.bigint()");
        return realBigint();
      };
      this.replace(process, "hrtime", hrtime);
    }
  }

  /** Put every replaced global back. */
  uninstall(): void {
    for (let i = this.replaced.length - 1; i >= 0; i--) {
      const { owner, key, had } = this.replaced[i];
      if (had === undefined) Reflect.deleteProperty(owner, key);
      else Object.defineProperty(owner, key, had);
    }
    this.replaced.length = 0;
  }

  /** What was called, for a failure message; null if nothing was. */
  report(): string | null {
    if (this.calls === 0) return null;
    return `${[...this.sources].join(", ")} called ${this.calls} time(s) while the check ran (the first: ${this.first}): a run must depend on its seed alone, so backend code (and hardware callbacks it schedules) must take random numbers from the machine's chooser (machine.chooser) and time from machine.now, never from the host`;
  }

  /** Throw a ConformanceFailure if anything was called. */
  verify(): void {
    const r = this.report();
    if (r !== null) throw new ConformanceFailure(r);
  }

  private replace(owner: object, key: string, value: unknown): void {
    const had = Object.getOwnPropertyDescriptor(owner, key);
    try {
      Object.defineProperty(owner, key, { value, configurable: true, writable: true, enumerable: false });
      this.replaced.push({ owner, key, had });
    } catch {
      // A host whose global cannot be replaced: that source is not watched.
    }
  }
}

/** The first stack frame outside this file, as " from <frame>", or "". */
function callerOf(stack: string | undefined): string {
  const frames = (stack ?? "").split("\n").slice(1);
  const frame = frames.find((f) => !f.includes("nondeterminism"));
  return frame === undefined ? "" : ` from ${frame.trim().replace(/^at /, "")}`;
}

/**
 * Run a check's body with a {@link NondeterminismTripwire} installed: the body's own failure wins
 * (with the tripwire's finding added), else a tripped wire fails the check.
 */
export function underTripwire(body: () => void): void {
  const wire = new NondeterminismTripwire();
  wire.install();
  let failed = false;
  try {
    body();
  } catch (e) {
    failed = true;
    const found = wire.report();
    if (found !== null && e instanceof Error) e.message = `${e.message}; and ${found}`;
    throw e;
  } finally {
    wire.uninstall();
    if (!failed) wire.verify();
  }
}
