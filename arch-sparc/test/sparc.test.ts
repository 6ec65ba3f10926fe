import { describe, expect, it } from "@jest/globals";
import {
  ArchOptionError,
  createSmpSystem,
  runWorkload,
  type SmpSystem,
  type SystemConfig,
} from "@smpcall/core";
import { callbackRecorder, spawnProgram, type CallbackRun } from "@smpcall/core/testing";
import { CHEETAH_MAX_TARGETS, descriptor, type MondoIpi, mondoRetryDelayNs } from "@smpcall/arch-sparc";

function sparc(
  cpus: number,
  archOptions: Record<string, string> = {},
  extra: Partial<SystemConfig> = {},
): SmpSystem {
  return createSmpSystem({ cpus, seed: 1, arch: descriptor, archOptions, trace: true, ...extra });
}

function broadcastFrom(sys: SmpSystem, senders: number[]): CallbackRun[] {
  const log: CallbackRun[] = [];
  const fn = callbackRecorder(sys, log);
  for (const s of senders)
    spawnProgram(sys, s, function* () {
      yield* sys.kernel.smpCallFunction(fn, s, true);
    });
  return log;
}

function exactlyOnce(log: CallbackRun[], cpus: number, senders: number[]): void {
  for (const s of senders) {
    const got = log
      .filter((r) => r.info === s)
      .map((r) => r.cpu)
      .sort((a, b) => a - b);
    expect(got).toEqual(Array.from({ length: cpus }, (_, i) => i).filter((c) => c !== s));
  }
}

describe("arch-sparc: mondo cross-calls", () => {
  it("the retry delay is 2 us per remaining CPU, clamped to 2..100 us", () => {
    expect([1, 2, 10, 50, 51, 500].map(mondoRetryDelayNs)).toEqual([
      2000, 4000, 20000, 100000, 100000, 100000,
    ]);
  });

  it("sun4v: a full mondo queue gives would-block retries and every call still runs exactly once", () => {
    const sys = sparc(16, { mondoQueueDepth: "1" });
    const log: CallbackRun[] = [];
    const fn = callbackRecorder(sys, log);
    // Target 5 holds interrupts off, so its one-entry queue stays full: the first mondo fills
    // it, the senders' further mondos (reschedule xcalls) see HV_EWOULDBLOCK and retry.
    spawnProgram(sys, 5, function* () {
      sys.machine.localIrqDisable();
      yield 300_000;
      sys.machine.localIrqEnable();
      yield 10;
    });
    for (const s of [0, 1, 2, 3]) {
      spawnProgram(sys, s, function* () {
        yield 100 * (s + 1);
        yield* sys.kernel.smpCallFunctionSingle(5, fn, s, false);
        yield* sys.arch.sendRescheduleIpi(5);
      });
    }
    expect(sys.run().status).toBe("completed");
    const st = sys.arch.statistics();
    expect(st.wouldBlocks).toBeGreaterThan(0);
    expect(st.retries).toBeGreaterThan(0);
    expect(st.retryNs).toBeGreaterThanOrEqual(st.retries * 2000);
    expect(log.map((r) => r.info).sort()).toEqual([0, 1, 2, 3]);
    expect(log.every((r) => r.cpu === 5)).toBe(true);
    expect(sys.machine.problems).toEqual([]);
  });

  it("sun4v: injected would-block results are retried to completion (seeded)", () => {
    const { report } = runWorkload({
      cpus: 64,
      seed: 5,
      arch: descriptor,
      archOptions: { wouldBlockRate: "0.3" },
      workload: "broadcast",
      ops: 16,
    });
    expect(report.problems).toEqual([]);
    expect(report.arch.wouldBlocks).toBeGreaterThan(0);
    expect(report.counts.callbacksRun).toBe(16 * 63);
  });

  it("sun4u-cheetah: with a 30% NACK rate a 64-CPU broadcast completes and reports its retries", () => {
    const sys = sparc(64, { platform: "sun4u-cheetah", nackRate: "0.3" });
    const log = broadcastFrom(sys, [0]);
    expect(sys.run().status).toBe("completed");
    exactlyOnce(log, 64, [0]);
    const st = sys.arch.statistics();
    expect(st.nacks).toBeGreaterThan(5);
    expect(st.retries).toBeGreaterThan(0);
    expect(st.maxDispatchBatch).toBeLessThanOrEqual(CHEETAH_MAX_TARGETS);
  });

  it("sun4u-cheetah never dispatches to more than 32 targets at once; spitfire to one", () => {
    for (const [platform, max, dispatches] of [
      ["sun4u-cheetah", 32, 2],
      ["sun4u-spitfire", 1, 63],
    ] as const) {
      const sys = sparc(64, { platform });
      broadcastFrom(sys, [0]);
      sys.run();
      expect(sys.arch.statistics()).toMatchObject({ maxDispatchBatch: max, dispatches });
    }
  });

  it("a CPU in error is dropped and reported by id, the core watchdog sees the stuck csd, and the run has problems (CLI exit 1)", () => {
    const sys = sparc(8, { errorCpus: "6" }, { csdLockTimeoutMs: 1 });
    broadcastFrom(sys, [0]);
    const out = sys.run();
    expect(out.status).toBe("deadlock");
    const kinds = out.problems.map((p) => p.kind);
    expect(kinds).toEqual(expect.arrayContaining(["arch-error", "stuck-csd", "deadlock"]));
    expect(out.problems.find((p) => p.kind === "arch-error")!.message).toMatch(
      /target cpu\(6\) was in error state/,
    );
    expect(sys.kernel.stuckCsds[0]).toMatchObject({ waitingCpu: 0, targetCpu: 6 });
    expect(sys.arch.statistics().cpuErrors).toBeGreaterThanOrEqual(1);
  });

  it("no progress past the retry limit: a mondo timeout naming the CPU", () => {
    const sys = sparc(4, { mondoQueueDepth: "1", retryLimit: "50" }, { csdLockTimeoutMs: 0 });
    // CPU 2's queue fills and it never takes interrupts again.
    spawnProgram(sys, 2, function* () {
      sys.machine.localIrqDisable();
      for (;;) yield 1_000_000;
    });
    spawnProgram(sys, 0, function* () {
      yield* sys.kernel.smpCallFunctionSingle(2, () => undefined, null, false);
      yield 1000;
      yield* sys.arch.sendCallFunctionSingleIpi(2);
    });
    sys.run({ maxEvents: 20_000 });
    const timeout = sys.machine.problems.find((p) => p.kind === "arch-error");
    expect(timeout?.message).toMatch(/mondo timeout: cpu\(2\) made no progress after 50 retries/);
    expect(sys.arch.statistics().mondoTimeouts).toBe(1);
  });

  it("two-stage receive: the mondo trap frees the slot and raises a softint; softints coalesce", () => {
    const sys = sparc(8);
    const log: CallbackRun[] = [];
    const fn = callbackRecorder(sys, log);
    // Mondos for CPU 3 pile up in its queue while it has interrupts off: one trap drains every
    // entry, their softint raises coalesce into one softint, which runs all three callbacks.
    spawnProgram(sys, 3, function* () {
      sys.machine.localIrqDisable();
      yield 50_000;
      sys.machine.localIrqEnable();
      yield 10;
    });
    for (const s of [0, 1, 2])
      spawnProgram(sys, s, function* () {
        yield 100 * s;
        yield* sys.kernel.smpCallFunctionSingle(3, fn, s, false);
        yield* sys.arch.sendCallFunctionSingleIpi(3);
      });
    sys.run();
    const a = sys.arch as MondoIpi;
    expect(a.queueDepthOf(3)).toBe(0);
    const st = sys.arch.statistics();
    expect(st.mondoEntries).toBeGreaterThan(st.mondoTraps);
    expect(st.softintsCoalesced).toBeGreaterThan(0);
    expect(st.softints).toBeLessThan(st.mondoEntries);
    expect(log.map((r) => r.info).sort()).toEqual([0, 1, 2]);
    // 4 mondos: the first call's IPI (the other two found CPU 3's queue non-empty) + 3 direct sends.
    expect(sys.trace.named("sparc_mondo").filter((r) => r.cpu === 3).length).toBe(4);
  });

  it("offline CPUs and self are never in the CPU list", () => {
    const sys = sparc(8);
    sys.kernel.cpuDown(4);
    spawnProgram(sys, 0, function* () {
      yield 1000;
      yield* sys.arch.sendCallFunctionSingleIpi(0);
      yield* sys.arch.sendCallFunctionSingleIpi(4);
    });
    sys.run();
    expect(sys.arch.statistics()).toMatchObject({ hypercalls: 0, mondoTraps: 0 });
  });

  it("every call runs exactly once on each platform (mixed workload)", () => {
    for (const platform of ["sun4v", "sun4u-cheetah", "sun4u-spitfire"]) {
      const { report } = runWorkload({
        cpus: 16,
        seed: 2,
        arch: descriptor,
        archOptions: { platform },
        workload: "mixed",
        ops: 200,
      });
      expect(report.problems).toEqual([]);
      expect(report.counts.callbacksRun).toBe(report.counts.csdsQueued + report.counts.callbacksLocal);
    }
  });

  it("bad options are refused with the choices", () => {
    expect(() => sparc(8, { platform: "sun4d" })).toThrow(ArchOptionError);
    expect(() => sparc(8, { platform: "sun4d" })).toThrow(
      /expected sun4v \| sun4u-cheetah \| sun4u-spitfire/,
    );
    expect(() => sparc(8, { nackRate: "1.5" })).toThrow(/expected number 0\.\.1/);
    expect(() => sparc(8, { errorCpus: "9" })).toThrow(
      /option errorCpus of arch sparc: cpulist part "9" is outside 0-7/,
    );
  });
});
