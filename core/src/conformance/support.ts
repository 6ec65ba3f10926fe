import { parseArchOptions, type RawArchOptions } from "../arch/options";
import { CpuMask } from "../machine/cpumask";
import type { RunOutcome } from "../machine/machine";
import type { CpuCode } from "../machine/step";
import { Prng } from "../machine/prng";
import { buildRunReport, type RunReport } from "../report/run-report";
import { createSmpSystem, type SmpSystem, type SystemConfig } from "../system";
import { getWorkload } from "../workloads";
import { probedDescriptor, probeOf, type ArchProbe } from "./probe";
import type { ConformanceContext } from "./types";
import { expectThat, KitMachineRefused } from "./types";
import { ArchOptionError } from "../errors";

/**
 * A system of the backend under test: idle CPUs as the kit was asked (default halting, so IPIs
 * are needed), no watchdog. A size the backend's options refuse throws KitMachineRefused.
 */
export function kitSystem(
  ctx: ConformanceContext,
  cpus: number,
  extra: Partial<SystemConfig> & { archOptions?: RawArchOptions } = {},
): SmpSystem {
  try {
    return createSmpSystem({
      cpus,
      seed: 1,
      idle: ctx.idle ?? "halt",
      csdLockTimeoutMs: 0,
      kernel: ctx.kernel,
      ...extra,
      arch: probedDescriptor(ctx.descriptor),
      archOptions: { ...ctx.options, ...extra.archOptions },
    });
  } catch (e) {
    if (e instanceof ArchOptionError && !(e instanceof KitMachineRefused))
      throw new KitMachineRefused(cpus, e.message);
    throw e;
  }
}

/**
 * For checks that count the IPIs an idle target takes: its idle CPUs halt whatever `--idle`
 * says (with mwait or poll idle a single call to an idle CPU needs no IPI at all).
 */
export const IPI_COUNTING: Readonly<Partial<SystemConfig>> = Object.freeze({ idle: "halt" });

/**
 * Wait (1 us steps, at most 10 ms) until `cpu`'s receive path has called `schedulerIpi` more than
 * `before` times: a reschedule's delivery, bounded, since one that never arrives is for the
 * checks to report.
 */
export function* untilSchedulerIpi(probe: ArchProbe, cpu: number, before: number): CpuCode<void> {
  for (let i = 0; i < 10_000 && probe.schedulerIpis[cpu] <= before; i++) yield 1_000;
}

/** The probe around the backend of a kit system. */
export function kitProbe(sys: SmpSystem): ArchProbe {
  const p = probeOf(sys.machine);
  if (!p) throw new Error("not a kit system: build it with kitSystem()");
  return p;
}

/** What {@link kitWorkload} runs. */
export interface KitWorkloadConfig extends Partial<SystemConfig> {
  cpus: number;
  seed: number;
  workload: string;
  ops: number;
  archOptions?: RawArchOptions;
  /** Called with the system after the workload is installed, before it runs. */
  beforeRun?: (system: SmpSystem) => void;
}

/** Run a workload on a kit system (probed backend, watchdog off) under the check's budget. */
export function kitWorkload(
  ctx: ConformanceContext,
  what: string,
  config: KitWorkloadConfig,
): { system: SmpSystem; outcome: RunOutcome; report: RunReport } {
  const { workload: name, ops, beforeRun, ...extra } = config;
  const workload = getWorkload(name);
  const system = kitSystem(ctx, config.cpus, extra);
  workload.install({ system, ops, rng: new Prng(system.machine.seed).fork(`workload:${workload.name}`) });
  beforeRun?.(system);
  const outcome = ctx.guard.run(system, what);
  const report = buildRunReport(system, outcome, {
    workload: workload.name,
    ops,
    idle: system.kernel.idleMode,
  });
  return { system, outcome, report };
}

/**
 * The backend round trip (ns) the kit's time windows were drawn for: a backend whose calls and
 * reschedules complete within it keeps them as they are (every built-in backend does).
 */
export const KIT_WINDOW_BASE_NS = 10_000;

/** What the kit measured of the backend's speed ({@link kitTiming}). */
export interface KitTiming {
  /** How many times the kit's time windows are stretched (at least 1). */
  readonly scale: number;
  /** The longest of the round trips measured (ns; 0 if not measured). */
  readonly roundTripNs: number;
  /** From a single send to the target entering handleInterrupt, the target idle, no delivery jitter (ns; 0 if not measured). */
  readonly deliveryNs: number;
}

const timings = new WeakMap<ConformanceContext, KitTiming>();

/**
 * How many times the kit's time windows (a round of sends, a task that keeps a target busy, a
 * long callback) must be stretched for this backend: the longest of a waited single call, a
 * waited two-CPU mask call and a reschedule's way to `schedulerIpi`, all to idle CPUs of an
 * 8-CPU machine, over {@link KIT_WINDOW_BASE_NS}, rounded up, at least 1. A slow but correct
 * backend (a 1 ms delivery latency, a 2 ms hypercall) then passes the checks that expect things
 * within a window, which only a lost or late IPI should fail. Measured once per kit run; a
 * backend too broken to measure gets 1 and fails the checks themselves.
 */
export function kitTimeScale(ctx: ConformanceContext): number {
  return kitTiming(ctx).scale;
}

/** The kit's time scale for the backend, and the times it came from. */
export function kitTiming(ctx: ConformanceContext): KitTiming {
  const known = timings.get(ctx);
  if (known !== undefined) return known;
  const n = 8;
  const sys = kitSystem(ctx, n, { ...IPI_COUNTING, cost: { deliveryJitter: 0 } });
  const probe = kitProbe(sys);
  let longest = 0;
  const noop = (): void => undefined;
  sys.spawn(
    0,
    (function* (): CpuCode<void> {
      const m = sys.machine;
      let t = m.now;
      yield* sys.kernel.smpCallFunctionSingle(3, noop, null, true);
      longest = Math.max(longest, m.now - t);
      t = m.now;
      yield* sys.kernel.smpCallFunctionMany(CpuMask.of(n, [3, 5]), noop, null, true);
      longest = Math.max(longest, m.now - t);
      t = m.now;
      yield* sys.kernel.smpSendReschedule(4);
      yield* untilSchedulerIpi(probe, 4, 0);
      if (probe.schedulerIpis[4] > 0) longest = Math.max(longest, m.now - t);
    })(),
  );
  let timing: KitTiming = { scale: 1, roundTripNs: 0, deliveryNs: 0 };
  try {
    const out = ctx.guard.run(sys, "timing a call, a mask call and a reschedule (the kit's time scale)");
    const entry = probe.entryTimes[3][0];
    if (out.status === "completed")
      timing = {
        scale: Math.max(1, Math.ceil(longest / KIT_WINDOW_BASE_NS)),
        roundTripNs: longest,
        deliveryNs: entry === undefined ? 0 : Math.max(0, entry - probe.sendTimes[3][0]),
      };
  } catch {
    // A backend that breaks here breaks the checks too, which say how.
  }
  timings.set(ctx, timing);
  return timing;
}

/**
 * The backend's statistics read at named points of a run (around hotplug, faults): `verify`
 * fails when a key appeared or went away, a value is not a finite number >= 0, or a counter went
 * down between two points (a counter kept per CPU and summed over the online CPUs only, reset
 * when a CPU boots, read-to-clear).
 */
export class StatisticsWatch {
  private readonly samples: { at: string; t: number; stats: Record<string, number> }[] = [];

  constructor(private readonly sys: SmpSystem) {}

  /** Read the statistics now (a copy), as the point `at`. */
  sample(at: string): void {
    this.samples.push({ at, t: this.sys.machine.now, stats: { ...this.sys.arch.statistics() } });
  }

  /** Check the points read so far, in order. */
  verify(what: string): void {
    for (let i = 1; i < this.samples.length; i++) {
      const a = this.samples[i - 1];
      const b = this.samples[i];
      const ka = Object.keys(a.stats).join(", ");
      const kb = Object.keys(b.stats).join(", ");
      expectThat(
        ka === kb,
        () =>
          `${what}: the statistics keys changed from (${ka}) ${a.at} to (${kb}) ${b.at}: statistics() must keep the same keys`,
      );
      for (const [k, v] of Object.entries(b.stats)) {
        expectThat(
          Number.isFinite(v) && v >= 0,
          () => `${what}: statistic ${k} = ${v} ${b.at}: statistics must be finite numbers >= 0`,
        );
        expectThat(
          v >= a.stats[k],
          () =>
            `${what}: statistic ${k} decreased from ${a.stats[k]} ${a.at} (t=${a.t} ns) to ${v} ${b.at} (t=${b.t} ns): counters must only grow, whatever CPUs go offline or come back (a counter kept per CPU and summed over the online CPUs only, or reset when a CPU boots?)`,
        );
      }
    }
  }
}

/** Records which CPUs ran each call id. */
export class RunLog {
  private readonly runs = new Map<string, number[]>();
  /** A callback recording `id` on the CPU it runs on. */
  fn(id: string): (info: unknown, cpu: number) => void {
    return (_info: unknown, cpu: number): void => {
      const list = this.runs.get(id);
      if (list) list.push(cpu);
      else this.runs.set(id, [cpu]);
    };
  }
  /** CPUs that ran `id`, sorted. */
  cpus(id: string): number[] {
    return [...(this.runs.get(id) ?? [])].sort((a, b) => a - b);
  }
  /** Every id that ran. */
  ids(): string[] {
    return [...this.runs.keys()];
  }
}

/** Short list text for messages: `[1, 2, 3, ... 63 CPUs]`. */
export function listText(xs: readonly number[]): string {
  return xs.length <= 12 ? `[${xs.join(", ")}]` : `[${xs.slice(0, 10).join(", ")}, ... ${xs.length} CPUs]`;
}

/** Expect a run to complete without problems, saying what went wrong otherwise. */
export function expectClean(what: string, out: RunOutcome): void {
  expectThat(
    out.status === "completed" && out.problems.length === 0,
    () =>
      `${what}: expected the run to complete with no problems, got status ${out.status}${out.problems.length ? `: ${out.problems.map((p) => `${p.kind}: ${p.message.split("\n")[0]}`).join("; ")}` : ""}`,
  );
}

/** Expect `id` ran exactly once on each CPU of `expected` and nowhere else. */
export function expectRanOn(what: string, log: RunLog, id: string, expected: readonly number[]): void {
  const got = log.cpus(id);
  const want = [...expected].sort((a, b) => a - b);
  const dup = got.filter((c, i) => got.indexOf(c) !== i);
  expectThat(
    dup.length === 0,
    () => `${what}: callback ran twice on CPU(s) ${listText([...new Set(dup)])}: a call was delivered twice`,
  );
  const missing = want.filter((c) => !got.includes(c));
  const extra = got.filter((c) => !want.includes(c));
  expectThat(
    missing.length === 0 && extra.length === 0,
    () =>
      `${what}: expected the callback on ${listText(want)}, it ran on ${listText(got)}${missing.length ? `; never ran on ${listText(missing)} (IPI lost or sent to a wrong CPU)` : ""}${extra.length ? `; ran on unexpected ${listText(extra)}` : ""}`,
  );
}

/**
 * Expect the core handler was called exactly on `targets` (once each) and on no other CPU; the
 * message names the problem: lost, delivered twice, to the sender, or to a wrong CPU.
 */
export function expectHandlerCalls(
  what: string,
  sys: SmpSystem,
  targets: readonly number[],
  sender = -1,
): void {
  expectCallsExactly(what, sys.kernel.stats.handlerCallsOn, targets, sender);
}

/**
 * Expect `calls[cpu]` (core-handler calls per CPU, e.g. a difference of two snapshots) is 1 on
 * each of `targets` and 0 elsewhere; the message names the problem.
 */
export function expectCallsExactly(
  what: string,
  calls: ArrayLike<number>,
  targets: readonly number[],
  sender = -1,
): void {
  const set = new Set(targets);
  const missing: number[] = [];
  const twice: number[] = [];
  const extra: number[] = [];
  for (let cpu = 0; cpu < calls.length; cpu++) {
    const n = calls[cpu];
    if (set.has(cpu)) {
      if (n === 0) missing.push(cpu);
      else if (n > 1) twice.push(cpu);
    } else if (n > 0) {
      extra.push(cpu);
    }
  }
  expectThat(
    !(missing.length > 0 && extra.length > 0),
    () =>
      `${what}: IPIs went to the wrong CPU: ${listText(missing)} never took one, ${listText(extra)} took one without being targets`,
  );
  expectThat(missing.length === 0, () => `${what}: ${listText(missing)} never took the IPI (IPI lost)`);
  expectThat(
    twice.length === 0,
    () => `${what}: ${listText(twice)} took the IPI more than once (delivered twice)`,
  );
  expectThat(
    !extra.includes(sender),
    () => `${what}: the sender, CPU ${sender}, took its own IPI (delivered to the sender)`,
  );
  expectThat(
    extra.length === 0,
    () => `${what}: CPU(s) ${listText(extra)} are not targets but took the IPI (the mask was not respected)`,
  );
}

/** Spawn one program and run the system under the check's budget. */
export function runProgram(
  ctx: ConformanceContext,
  what: string,
  sys: SmpSystem,
  cpu: number,
  body: () => CpuCode<unknown>,
): RunOutcome {
  sys.spawn(cpu, body());
  return ctx.guard.run(sys, what);
}

/**
 * Steps of one kit program, each a send whose core-handler calls must land on exactly its
 * targets: `step` snapshots the per-CPU handler calls around the send; `verify` checks every
 * finished step and the one that never finished (a lost or misdirected IPI leaves its sender
 * spinning), then the run itself.
 */
export class KitSteps {
  private readonly done: {
    what: string;
    before: Uint32Array;
    after: Uint32Array;
    targets: number[];
    sender: number;
  }[] = [];
  private open: { what: string; before: Uint32Array; targets: number[]; sender: number } | null = null;

  constructor(private readonly probe: ArchProbe) {}

  /** Run `body` (a send and its wait) as one step towards `targets`, then let late deliveries land. */
  *step(
    what: string,
    targets: readonly number[],
    sender: number,
    body: () => CpuCode<unknown>,
    settleNs = 20_000,
  ): CpuCode<void> {
    const open = { what, before: this.probe.callHandlerCalls.slice(), targets: [...targets], sender };
    this.open = open;
    yield* body();
    yield settleNs;
    this.done.push({ ...open, after: this.probe.callHandlerCalls.slice() });
    this.open = null;
  }

  /** Check every step, then that the run completed cleanly. */
  verify(what: string, out: RunOutcome): void {
    for (const s of this.done)
      expectCallsExactly(
        s.what,
        s.after.map((v, i) => v - s.before[i]),
        s.targets,
        s.sender,
      );
    const open = this.open;
    if (open !== null)
      expectCallsExactly(
        `${open.what} (never finished: run status ${out.status})`,
        this.probe.callHandlerCalls.map((v, i) => v - open.before[i]),
        open.targets,
        open.sender,
      );
    expectClean(what, out);
  }
}

/**
 * Each option of the backend at another legal value than the run's (an enum's first other
 * choice, or with `everyChoice` each of them; a number's max, or its min when the run's value is
 * the max; a boolean flipped; cpulists are left alone), one option per entry.
 */
export function otherOptionValues(ctx: ConformanceContext, everyChoice = false): RawArchOptions[] {
  const d = ctx.descriptor;
  const values = parseArchOptions(d.name, d.options, ctx.options);
  const out: RawArchOptions[] = [];
  for (const [name, spec] of Object.entries(d.options)) {
    const v = values[name];
    if (spec.type === "enum") {
      const others = spec.choices.filter((c) => c !== v);
      for (const other of everyChoice ? others : others.slice(0, 1)) out.push({ [name]: other });
    } else if (spec.type === "integer" || spec.type === "number") {
      if (spec.max !== spec.min) out.push({ [name]: v !== spec.max ? spec.max : spec.min });
    } else if (spec.type === "boolean") out.push({ [name]: !v });
  }
  return out;
}

/**
 * Run `body` with the run's options, then once with each option at another legal value
 * ({@link otherOptionValues}, every choice of an enum): for checks of capabilities a backend may declare as a function of
 * its options (`offlineDelivery`, `minDeliveryLatencyNs`), which must hold for every value, not
 * only the one the kit runs with, and of the declared statistics, which must count alike in every mode. Options that inject faults (named in `transientFaultOptions`,
 * `busyTargetOptions` or `permanentFaultOption`: a NACK rate of 1 never delivers) keep the run's
 * value; a set of options that refuses the machine the body builds is left out; a failure under
 * another value names it.
 */
export function forEachOptionValue(ctx: ConformanceContext, body: (ctx: ConformanceContext) => void): void {
  body(ctx);
  const caps = ctx.descriptor.capabilities;
  const faulty = new Set([
    ...Object.keys(caps.transientFaultOptions ?? {}),
    ...Object.keys(caps.busyTargetOptions ?? {}),
    ...(caps.permanentFaultOption === undefined ? [] : [caps.permanentFaultOption]),
  ]);
  for (const other of otherOptionValues(ctx, true)) {
    if (Object.keys(other).some((k) => faulty.has(k))) continue;
    const sub: ConformanceContext = { ...ctx, options: { ...ctx.options, ...other } };
    try {
      body(sub);
    } catch (e) {
      if (e instanceof KitMachineRefused) continue;
      const opts = Object.entries(other)
        .map(([k, v]) => `${k}=${String(v)}`)
        .join(" ");
      if (e instanceof Error) e.message = `with --arch-opt ${opts}: ${e.message}`;
      throw e;
    }
  }
}
