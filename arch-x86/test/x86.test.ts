import { describe, expect, it } from "@jest/globals";
import {
  ArchOptionError,
  CpuMask,
  createSmpSystem,
  runWorkload,
  type CpuCode,
  type SmpSystem,
  type SystemConfig,
} from "@smpcall/core";
import { callbackRecorder, spawnProgram, type CallbackRun } from "@smpcall/core/testing";
import {
  CALL_FUNCTION_SINGLE_VECTOR,
  CALL_FUNCTION_VECTOR,
  descriptor,
  type LocalApicIpi,
  lineOfVector,
} from "@smpcall/arch-x86";

function x86(
  cpus: number,
  archOptions: Record<string, string> = {},
  extra: Partial<SystemConfig> = {},
): SmpSystem {
  return createSmpSystem({ cpus, seed: 1, arch: descriptor, archOptions, trace: true, ...extra });
}
const apic = (sys: SmpSystem) => sys.arch as LocalApicIpi;

function broadcastFrom0(sys: SmpSystem): CallbackRun[] {
  const log: CallbackRun[] = [];
  spawnProgram(sys, 0, function* () {
    yield* sys.kernel.smpCallFunction(callbackRecorder(sys, log), null, true);
  });
  expect(sys.run().status).toBe("completed");
  return log;
}

describe("arch-x86: local APIC", () => {
  it.each([
    ["physflat", 63],
    ["x2apic-phys", 63],
    ["x2apic-cluster", 4],
  ])("a 64-CPU broadcast from CPU 0 costs the mode's ICR writes: %s = %d", (mode, writes) => {
    const sys = x86(64, { apic: mode, shorthand: "off" });
    const log = broadcastFrom0(sys);
    expect(sys.arch.statistics().icrWrites).toBe(writes);
    expect(log.map((r) => r.cpu).sort((a, b) => a - b)).toEqual(Array.from({ length: 63 }, (_, i) => i + 1));
  });

  it("APIC IDs come from package/core/thread; CPUs are numbered cores first unless cpuNumbering says otherwise", () => {
    // 64 CPUs: 2 packages x 16 cores x 2 threads. Linux's order: CPUs 0-31 are the first threads
    // of cores 0-31, CPUs 32-63 their siblings. APIC ID = package << 5 | core << 1 | thread.
    const a = apic(x86(64));
    expect([0, 32, 1, 33, 15, 16, 48, 63].map((c) => a.apicId(c))).toEqual([0, 1, 2, 3, 30, 32, 33, 63]);
    const sys = x86(64);
    expect(sys.machine.topology.sameCore(0, 32)).toBe(true);
    expect(sys.machine.topology.sameCore(0, 1)).toBe(false);
    const adj = apic(x86(64, { cpuNumbering: "siblings-adjacent" }));
    expect([0, 1, 2, 16, 32, 63].map((c) => adj.apicId(c))).toEqual([0, 1, 2, 16, 32, 63]);
    // 12 cores per package: the core field is still 4 bits wide, so each package leaves IDs
    // 24-31 unused and package 1 starts at 32.
    const holes = apic(x86(48, {}, { topology: { coresPerPackage: 12 } }));
    expect([11, 12, 35, 36, 47].map((c) => holes.apicId(c))).toEqual([22, 32, 23, 33, 55]);
  });

  it("x2APIC cluster mode: one write per cluster of 16 APIC IDs; a cluster is not a range of CPU numbers", () => {
    const sys = x86(64, { apic: "x2apic-cluster", shorthand: "off" }, { cost: { deliveryJitter: 0 } });
    broadcastFrom0(sys);
    expect(sys.arch.statistics().icrWrites).toBe(4);
    // Targets of one write arrive together: group interrupt entries by time.
    const groups = new Map<number, number[]>();
    for (const r of sys.trace.named("call_function_entry"))
      (groups.get(r.ts) ?? groups.set(r.ts, []).get(r.ts)!).push(r.cpu);
    const clusters = [...groups.values()].map((g) => CpuMask.of(64, g).toString());
    // Cluster 0 = APIC IDs 0-15 = cores 0-7, both threads: CPUs 0-7 and 32-39 (CPU 0 sends).
    expect(clusters).toEqual(["1-7,32-39", "8-15,40-47", "16-23,48-55", "24-31,56-63"]);
  });

  it("x2APIC cluster mode with 2 threads per core: writes = distinct clusters among the targets' APIC IDs, not ceil(n/16)", () => {
    const many = (sys: SmpSystem, list: string) => {
      spawnProgram(sys, 0, function* () {
        yield* sys.kernel.smpCallFunctionMany(CpuMask.parse(64, list), () => {}, null, true);
      });
      expect(sys.run().status).toBe("completed");
      return sys.arch.statistics().icrWrites;
    };
    // CPUs 1-16 (16 targets): APIC IDs 2-14 (cluster 0), 16-30 (cluster 1), 32 (cluster 2).
    expect(many(x86(64, { apic: "x2apic-cluster" }), "1-16")).toBe(3);
    // Numbered siblings-adjacent, CPUs 1-16 are APIC IDs 1-16: clusters 0 and 1.
    expect(many(x86(64, { apic: "x2apic-cluster", cpuNumbering: "siblings-adjacent" }), "1-16")).toBe(2);
    // A core's two threads share a cluster: CPUs 5 and 37 are one write.
    expect(many(x86(64, { apic: "x2apic-cluster" }), "5,37")).toBe(1);
    // 48 CPUs, 12 cores per package: APIC IDs 0-23 and 32-55 are clusters 0, 1, 2, 3.
    const holes = x86(
      48,
      { apic: "x2apic-cluster", shorthand: "off" },
      { topology: { coresPerPackage: 12 } },
    );
    broadcastFrom0(holes);
    expect(holes.arch.statistics().icrWrites).toBe(4);
    expect(Math.ceil(47 / 16)).toBe(3);
  });

  it("with the shorthand a 64-CPU broadcast is one ICR write", () => {
    const sys = x86(64, { apic: "x2apic-cluster" });
    broadcastFrom0(sys);
    expect(sys.arch.statistics()).toMatchObject({ icrWrites: 1, shorthandSends: 1 });
  });

  it("auto picks flat up to 8 CPUs and x2APIC cluster above; flat is refused above 8 CPUs", () => {
    expect(apic(x86(8)).mode).toBe("flat");
    expect(apic(x86(9)).mode).toBe("x2apic-cluster");
    expect(() => x86(9, { apic: "flat" })).toThrow(ArchOptionError);
    expect(() => x86(9, { apic: "flat" })).toThrow(/at most 8 CPUs, this machine has 9/);
    expect(() => x86(300, { apic: "physflat" })).toThrow(/8-bit APIC IDs/);
    expect(() => x86(255, { apic: "physflat" })).not.toThrow();
    // 200 CPUs fit 8 bits as CPU numbers, but 12-core packages need APIC IDs up to 263.
    expect(() => x86(200, { apic: "physflat" }, { topology: { coresPerPackage: 12 } })).toThrow(
      /needs APIC IDs up to 263/,
    );
    expect(() => x86(4, { apic: "x2apic" })).toThrow(
      /bad value "x2apic" for option apic of arch x86: expected auto \| flat \| physflat \| x2apic-cluster \| x2apic-phys/,
    );
  });

  it("flat mode: one write reaches the whole mask", () => {
    const sys = x86(8, { apic: "flat", shorthand: "off" });
    broadcastFrom0(sys);
    expect(sys.arch.statistics().icrWrites).toBe(1);
  });

  it("xAPIC writes busy-wait for the delivery-status bit; x2APIC never does", () => {
    const xapic = x86(64, { apic: "physflat", shorthand: "off" });
    broadcastFrom0(xapic);
    // 63 writes of 300 ns, each after waiting out the previous one's 400 ns delivery status.
    expect(xapic.arch.statistics().busyWaitNs).toBe(62 * 400);
    const x2 = x86(64, { apic: "x2apic-phys", shorthand: "off" });
    broadcastFrom0(x2);
    expect(x2.arch.statistics().busyWaitNs).toBe(0);
  });

  it("two sends of 0xfb before the target enables interrupts merge in IRR: one interrupt, both callbacks run", () => {
    const sys = x86(4, { apic: "x2apic-phys" });
    const log: CallbackRun[] = [];
    const fn = callbackRecorder(sys, log);
    let irrBeforeEnable = false;
    let irrWordsBeforeEnable: number[] = [];
    spawnProgram(sys, 2, function* () {
      sys.machine.localIrqDisable();
      yield 50_000;
      irrBeforeEnable = apic(sys).irr(2, CALL_FUNCTION_SINGLE_VECTOR);
      irrWordsBeforeEnable = Array.from(apic(sys).irrBitmap(2));
      sys.machine.localIrqEnable();
      yield 10;
    });
    spawnProgram(sys, 0, function* () {
      yield 100;
      yield* sys.kernel.smpCallFunctionSingle(2, fn, "a", false);
    });
    spawnProgram(sys, 1, function* () {
      yield 200;
      // CPU 1 bypasses the queue-was-empty rule to hit the vector twice (as a second sender
      // racing with the first would): the second IPI merges with the pending one.
      yield* sys.kernel.smpCallFunctionSingle(2, fn, "b", false);
      yield* sys.arch.sendCallFunctionSingleIpi(2);
    });
    expect(sys.run().status).toBe("completed");
    expect(irrBeforeEnable).toBe(true);
    expect(irrWordsBeforeEnable).toEqual([0, 0, 0, 0, 0, 0, 0, 1 << (CALL_FUNCTION_SINGLE_VECTOR & 31)]);
    expect(Array.from(apic(sys).irrBitmap(2))).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    expect(Array.from(apic(sys).isrBitmap(2))).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    expect(log.map((r) => r.info)).toEqual(["a", "b"]);
    expect(sys.machine.cpus[2].counters.irqsTaken).toBe(1);
    expect(sys.arch.statistics()).toMatchObject({ irrMerged: 1, interruptsCallFunctionSingle: 1 });
  });

  it("the shorthand is not used while a present CPU has never been booted", () => {
    const sys = x86(16, { apic: "x2apic-cluster" }, { offlineAtBoot: [7] });
    expect(apic(sys).shorthandEnabled()).toBe(false);
    broadcastFrom0(sys);
    expect(sys.arch.statistics()).toMatchObject({ shorthandSends: 0, icrWrites: 1 });
    // Boot it once: from then on the shorthand is allowed.
    expect(sys.kernel.cpuUp(7)).toBe(0);
    expect(apic(sys).shorthandEnabled()).toBe(true);
  });

  it("the shorthand is off with one CPU online and with shorthand=off", () => {
    const two = x86(2);
    two.kernel.cpuDown(1);
    expect(apic(two).shorthandEnabled()).toBe(false);
    expect(apic(x86(16, { shorthand: "off" })).shorthandEnabled()).toBe(false);
  });

  it("a shorthand reaching an offline CPU is dropped by its soft-disabled local APIC: nothing in IRR, nothing taken (6.1 native_cpu_disable)", () => {
    const sys = x86(16, { apic: "x2apic-cluster" });
    const log: CallbackRun[] = [];
    const fn = callbackRecorder(sys, log);
    expect(sys.kernel.cpuDown(5)).toBe(0);
    let pendingWhileOffline = true;
    spawnProgram(sys, 0, function* () {
      yield 1000;
      yield* sys.kernel.smpCallFunction(fn, "bcast", true);
      yield 5000;
      pendingWhileOffline = apic(sys).irr(5, CALL_FUNCTION_VECTOR);
      expect(sys.kernel.cpuUp(5)).toBe(0);
      yield 20_000;
    });
    expect(sys.run().status).toBe("completed");
    expect(sys.arch.statistics()).toMatchObject({
      shorthandSends: 1,
      offlineShorthandHits: 1,
      offlineDropped: 1,
      irrDiscardedAtBoot: 0,
    });
    expect(pendingWhileOffline).toBe(false);
    expect(log.filter((r) => r.cpu === 5)).toEqual([]);
    expect(sys.machine.cpus[5].counters.irqsTaken).toBe(0);
    expect(sys.kernel.warnings.records).toEqual([]);
    expect(sys.machine.problems).toEqual([]);
  });

  it("an IPI still in flight when its target goes down is discarded when the CPU comes back (INIT/SIPI resets the local APIC)", () => {
    const sys = x86(8, { apic: "x2apic-phys", latencyNs: "50000" });
    let pendingWhileOffline = false;
    let pendingAfterBoot = true;
    spawnProgram(sys, 0, function* () {
      yield 1000;
      yield* sys.arch.sendCallFunctionSingleIpi(5); // lands 50 us later, CPU 5 down by then
      expect(sys.kernel.cpuDown(5)).toBe(0);
      yield 0; // let stop_machine take this CPU too
      yield 100_000;
      pendingWhileOffline = apic(sys).irr(5, CALL_FUNCTION_SINGLE_VECTOR);
      expect(sys.kernel.cpuUp(5)).toBe(0);
      pendingAfterBoot = apic(sys).irr(5, CALL_FUNCTION_SINGLE_VECTOR);
      yield 10_000;
    });
    expect(sys.run().status).toBe("completed");
    expect(pendingWhileOffline).toBe(true);
    expect(pendingAfterBoot).toBe(false);
    expect(sys.arch.statistics()).toMatchObject({ offlineDropped: 0, irrDiscardedAtBoot: 1 });
    expect(sys.machine.cpus[5].counters.irqsTaken).toBe(0);
  });

  it("a direct IPI to an offline CPU is dropped (its APIC is soft-disabled), not held for its return", () => {
    const sys = x86(8, { apic: "physflat" });
    spawnProgram(sys, 0, function* () {
      expect(sys.kernel.cpuDown(3)).toBe(0);
      yield 1000;
      yield* sys.arch.sendCallFunctionSingleIpi(3);
      yield* sys.arch.sendRescheduleIpi(3);
      yield 5000;
      expect(apic(sys).irr(3, CALL_FUNCTION_SINGLE_VECTOR)).toBe(false);
      expect(sys.kernel.cpuUp(3)).toBe(0);
      yield 5000;
    });
    expect(sys.run().status).toBe("completed");
    // The reschedule is native_smp_send_reschedule's: a WARN, no ICR write (next test).
    expect(sys.arch.statistics()).toMatchObject({
      icrWrites: 1,
      offlineDropped: 1,
      offlineReschedules: 1,
      irrDiscardedAtBoot: 0,
    });
    expect(sys.machine.cpus[3].counters.irqsTaken).toBe(0);
  });

  it.each([
    ["6.1", "arch/x86/kernel/apic/ipi.c:68"],
    ["mainline", "arch/x86/kernel/apic/ipi.c"],
  ] as const)(
    "--kernel %s: smp_send_reschedule to an offline CPU reaches native_smp_send_reschedule, which WARNs each time and sends nothing",
    (kernel, location) => {
      const sys = x86(8, { apic: "physflat" }, { kernel });
      spawnProgram(sys, 0, function* () {
        expect(sys.kernel.cpuDown(3)).toBe(0);
        yield 1000;
        yield* sys.kernel.smpSendReschedule(3);
        yield* sys.kernel.smpSendReschedule(3);
        yield* sys.kernel.smpSendReschedule(4); // online: one ICR write, taken
        yield 5000;
        expect(sys.kernel.cpuUp(3)).toBe(0);
        yield 5000;
      });
      expect(sys.run().status).toBe("completed");
      expect(sys.arch.statistics()).toMatchObject({
        icrWrites: 1,
        vectorsSent: 1,
        offlineDropped: 0,
        offlineReschedules: 2,
      });
      expect(sys.kernel.stats.rescheduleIpis).toBe(3); // requests, as ipi_send_cpu traces them
      expect(sys.trace.named("ipi_send_cpu").map((r) => r.fields.cpu)).toEqual([3, 3, 4]);
      expect(sys.machine.cpus[3].counters.irqsTaken).toBe(0);
      expect(sys.machine.cpus[4].counters.irqsTaken).toBe(1);
      // WARN(1, ...), not WARN_ON_ONCE: every hit counted; the splat is the sending CPU's.
      expect(sys.kernel.warnings.records).toEqual([
        {
          site: "x86:reschedule-offline:reschedule IPI to offline CPU 3: not sent",
          cpu: 0,
          time: expect.any(Number),
          message: "reschedule IPI to offline CPU 3: not sent",
          location,
          kernelText: `sched: Unexpected reschedule of offline CPU#3!\nWARNING: CPU: 0 PID: 1000 at ${location} native_smp_send_reschedule`,
          count: 2,
        },
      ]);
      expect(sys.trace.named("smpcall_warning")).toHaveLength(1);
    },
  );

  it("x2APIC cluster mode: an offline target is in no cluster's destination; a cluster with no online target gets no write", () => {
    // 64 CPUs: cluster 0 = CPUs 0-7,32-39, cluster 1 = CPUs 8-15,40-47.
    const sys = x86(64, { apic: "x2apic-cluster" });
    spawnProgram(sys, 0, function* () {
      expect(sys.kernel.cpuDown(9)).toBe(0);
      yield 1000;
      yield* sys.arch.sendCallFunctionIpiMask(CpuMask.of(64, [1, 9])); // CPU 9 alone in cluster 1
      yield 5000;
      expect(sys.arch.statistics()).toMatchObject({ icrWrites: 1, vectorsSent: 1, offlineDropped: 0 });
      yield* sys.arch.sendCallFunctionIpiMask(CpuMask.of(64, [9, 10])); // the write covers CPU 10 only
      yield 5000;
    });
    expect(sys.run().status).toBe("completed");
    expect(sys.arch.statistics()).toMatchObject({ icrWrites: 2, vectorsSent: 2, offlineDropped: 0 });
    expect(sys.machine.cpus[10].counters.irqsTaken).toBe(1);
  });

  it("a mask send from a CPU that is itself going offline does not use the shorthand (6.1: mask plus sender is not the online mask)", () => {
    // CPU 5's async call is still in flight (50 us latency) when CPU 5 goes down: its dying flush
    // (take_cpu_down) runs the callback there, which sends to every online CPU.
    const sys = x86(8, { apic: "x2apic-phys", latencyNs: "50000" });
    const others = CpuMask.of(8, [0, 1, 2, 3, 4, 6, 7]);
    let onlineWhenSending = true;
    const fromDyingCpu = function* (): CpuCode<void> {
      onlineWhenSending = sys.machine.cpus[5].online;
      yield* sys.arch.sendCallFunctionIpiMask(others);
    };
    spawnProgram(sys, 0, function* () {
      yield 1000;
      yield* sys.kernel.smpCallFunctionSingle(5, fromDyingCpu, null, false);
      expect(sys.kernel.cpuDown(5)).toBe(0);
      yield 0; // let stop_machine take this CPU too
      yield 200_000;
    });
    expect(sys.run().status).toBe("completed");
    expect(onlineWhenSending).toBe(false);
    // One write for the single call, then one per target: no shorthand.
    expect(sys.arch.statistics()).toMatchObject({ shorthandSends: 0, icrWrites: 1 + 7 });
  });

  it("a physflat mask send is the kernel's loop: write k is done after the k before it, its target raised then; only the delivery latency varies", () => {
    // Default delivery jitter (10%): target k's IPI can never land before its own write is done,
    // and targets are reached in mask order (writes 700 ns apart, latency 1000 +- 100).
    const sys = x86(64, { apic: "physflat", shorthand: "off" });
    const mask = CpuMask.parse(64, "1-63");
    spawnProgram(sys, 0, function* () {
      yield 1000;
      yield* sys.arch.sendCallFunctionIpiMask(mask);
    });
    // CPU 1 aims a reschedule at CPU 0 in the middle of the loop: the loop runs with interrupts
    // off, so CPU 0 takes it only after its last write.
    spawnProgram(sys, 1, function* () {
      yield 5000;
      yield* sys.arch.sendRescheduleIpi(0);
    });
    expect(sys.run().status).toBe("completed");
    const raised = sys.trace
      .named("ipi_raise")
      .filter((r) => r.cpu === 0)
      .map((r) => [r.ts, r.fields.target_cpus]);
    // Write k (k = 0..62, to CPU k + 1) is done at 1000 + 300 + 700 k.
    expect(raised).toEqual(Array.from({ length: 63 }, (_, k) => [1000 + 300 + 700 * k, k + 1]));
    const entries = new Map<number, number>();
    for (const r of sys.trace.named("ipi_entry")) if (!entries.has(r.cpu)) entries.set(r.cpu, r.ts);
    for (let k = 0; k < 63; k++)
      expect(entries.get(k + 1)!).toBeGreaterThanOrEqual(1000 + 300 + 700 * k + 900);
    // (CPU 1 is busy in its program, not halted: it takes its IPI when that step ends.)
    for (let cpu = 3; cpu < 64; cpu++) expect(entries.get(cpu)!).toBeGreaterThan(entries.get(cpu - 1)!);
    expect(entries.get(0)!).toBeGreaterThanOrEqual(1000 + 300 + 700 * 62);
  });

  it("x2APIC cluster and KVM PV sends: each write's or hypercall's targets are raised when it is done", () => {
    const cluster = x86(64, { apic: "x2apic-cluster", shorthand: "off" });
    spawnProgram(cluster, 0, function* () {
      yield 1000;
      yield* cluster.arch.sendCallFunctionIpiMask(CpuMask.parse(64, "1-63"));
    });
    expect(cluster.run().status).toBe("completed");
    const byTime = (sys: SmpSystem) => {
      const groups = new Map<number, number[]>();
      for (const r of sys.trace.named("ipi_raise").filter((x) => x.cpu === 0))
        (groups.get(r.ts) ?? groups.set(r.ts, []).get(r.ts)!).push(r.fields.target_cpus as number);
      return [...groups.entries()].map(([t, cpus]) => [t, CpuMask.of(64 * 5, cpus).toString()]);
    };
    // 200 ns a write.
    expect(byTime(cluster)).toEqual([
      [1200, "1-7,32-39"],
      [1400, "8-15,40-47"],
      [1600, "16-23,48-55"],
      [1800, "24-31,56-63"],
    ]);
    const pv = x86(300, { pvIpi: "true", shorthand: "off", cpuNumbering: "siblings-adjacent" });
    spawnProgram(pv, 0, function* () {
      yield 1000;
      yield* pv.arch.sendCallFunctionIpiMask(CpuMask.parse(300, "1-299"));
    });
    expect(pv.run().status).toBe("completed");
    // 2000 ns a hypercall: APIC IDs 1-128, 129-256, 257-299.
    expect(byTime(pv)).toEqual([
      [3000, "1-128"],
      [5000, "129-256"],
      [7000, "257-299"],
    ]);
  });

  it("KVM guest with an xAPIC: the emulated ICR never shows delivery pending, so a send never busy-waits", () => {
    const sys = x86(4, { pvIpi: "true" }); // 4 CPUs: flat (xAPIC)
    expect(apic(sys).mode).toBe("flat");
    let ns = 0;
    spawnProgram(sys, 0, function* () {
      yield 1000;
      const t0 = sys.machine.now;
      yield* sys.arch.sendCallFunctionSingleIpi(1);
      yield* sys.arch.sendCallFunctionSingleIpi(2);
      ns = sys.machine.now - t0;
    });
    expect(sys.run().status).toBe("completed");
    expect(ns).toBe(2 * 2000);
    expect(sys.arch.statistics()).toMatchObject({ icrWrites: 2, busyWaitNs: 0 });
  });

  it("an x86 run traces x86's irq-vector events: call_function(_single)_entry/exit and reschedule_entry/exit, paired, with the vector", () => {
    const sys = x86(4);
    spawnProgram(sys, 0, function* () {
      yield* sys.kernel.smpCallFunction(() => {}, null, true);
      yield* sys.kernel.smpCallFunctionSingle(2, () => {}, null, true);
      yield* sys.arch.sendRescheduleIpi(3);
      yield 5000;
    });
    expect(sys.run().status).toBe("completed");
    const t = sys.trace;
    expect([t.count("call_function_entry"), t.count("call_function_exit")]).toEqual([3, 3]);
    expect([t.count("call_function_single_entry"), t.count("call_function_single_exit")]).toEqual([1, 1]);
    expect([t.count("reschedule_entry"), t.count("reschedule_exit")]).toEqual([1, 1]);
    expect(t.named("call_function_single_entry")[0]).toMatchObject({ cpu: 2, fields: { vector: 0xfb } });
    expect(t.named("reschedule_entry")[0]).toMatchObject({ cpu: 3, fields: { vector: 0xfd } });
    expect(t.named("call_function_exit").map((r) => r.fields)).toEqual([
      { vector: 0xfc },
      { vector: 0xfc },
      { vector: 0xfc },
    ]);
  });

  it("EOI is issued once per taken interrupt, first, with the x86 tracepoints around the handler", () => {
    const { system, report } = runWorkload({
      cpus: 32,
      seed: 3,
      arch: descriptor,
      workload: "mixed",
      ops: 300,
      trace: true,
    });
    const taken = report.perCpu.reduce((s, r) => s + r.irqs, 0);
    expect(report.arch.eois).toBe(taken);
    expect(
      report.arch.interruptsCallFunction +
        report.arch.interruptsCallFunctionSingle +
        report.arch.interruptsReschedule,
    ).toBe(taken);
    expect(system.trace.count("call_function_entry") + system.trace.count("call_function_single_entry")).toBe(
      report.arch.interruptsCallFunction + report.arch.interruptsCallFunctionSingle,
    );
    expect(system.trace.named("call_function_entry")[0].fields).toEqual({ vector: 252 });
    expect(report.problems).toEqual([]);
  });

  it("KVM PV IPI: one hypercall per 128-APIC-ID bitmap, built walking the mask in CPU order", () => {
    // Siblings adjacent, APIC IDs 0-299 follow CPU numbers: 1-128, 129-256, 257-299 = 3.
    const adj = x86(300, { pvIpi: "true", shorthand: "off", cpuNumbering: "siblings-adjacent" });
    expect(broadcastFrom0(adj).length).toBe(299);
    expect(adj.arch.statistics()).toMatchObject({ pvHypercalls: 3, icrWrites: 0, shorthandSends: 0 });
    // Cores first: CPUs 1-149 are APIC IDs 2, 4, ..., 298 (windows from 2, 130, 258), then CPUs
    // 150-299 are IDs 1, 3, ..., 299 (windows from 1, 129, 257): 6 hypercalls.
    const first = x86(300, { pvIpi: "true", shorthand: "off" });
    expect(broadcastFrom0(first).length).toBe(299);
    expect(first.arch.statistics()).toMatchObject({ pvHypercalls: 6, icrWrites: 0, shorthandSends: 0 });
    // A mask that is not all-but-self goes by hypercall even with the shorthand allowed:
    // CPUs 1..127 (one window) and 200..299 (one window) from CPU 0.
    const sys2 = x86(300, { pvIpi: "true", cpuNumbering: "siblings-adjacent" });
    const mask = CpuMask.parse(300, "1-127,200-299");
    const log2: CallbackRun[] = [];
    spawnProgram(sys2, 0, function* () {
      yield* sys2.kernel.smpCallFunctionMany(mask, callbackRecorder(sys2, log2), null, true);
    });
    expect(sys2.run().status).toBe("completed");
    expect(sys2.arch.statistics()).toMatchObject({ pvHypercalls: 2, icrWrites: 0, shorthandSends: 0 });
    expect(log2.length).toBe(227);
    // The base moves down when a lower APIC ID still fits under the highest one: CPU 1 then
    // CPU 32 (IDs 2 then 1) are one bitmap.
    const down = x86(64, { pvIpi: "true" });
    spawnProgram(down, 0, function* () {
      yield* down.kernel.smpCallFunctionMany(CpuMask.parse(64, "1,32"), () => {}, null, true);
    });
    expect(down.run().status).toBe("completed");
    expect(down.arch.statistics().pvHypercalls).toBe(1);
  });

  it("KVM guest: the all-but-self shorthand still wins over PV hypercalls (Linux >= 5.4); a single IPI is a trapped ICR write", () => {
    const sys = x86(300, { pvIpi: "true" });
    broadcastFrom0(sys);
    expect(sys.arch.statistics()).toMatchObject({ pvHypercalls: 0, icrWrites: 1, shorthandSends: 1 });
    const one = x86(4, { pvIpi: "true", hypercallNs: "2500" });
    let sendNs = 0;
    spawnProgram(one, 0, function* () {
      const t0 = one.machine.now;
      yield* one.arch.sendCallFunctionSingleIpi(3);
      sendNs = one.machine.now - t0;
    });
    expect(one.run().status).toBe("completed");
    expect(one.arch.statistics()).toMatchObject({
      pvHypercalls: 0,
      icrWrites: 1,
      interruptsCallFunctionSingle: 1,
    });
    expect(sendNs).toBe(2500); // the VM exit of the trapped write
  });

  it("every call runs exactly once in every mode", () => {
    for (const apicMode of ["flat", "physflat", "x2apic-cluster", "x2apic-phys"]) {
      const cpus = apicMode === "flat" ? 8 : 40;
      const { report } = runWorkload({
        cpus,
        seed: 9,
        arch: descriptor,
        archOptions: { apic: apicMode },
        workload: "mixed",
        ops: 400,
      });
      expect(report.problems).toEqual([]);
      expect(report.counts.callbacksRun).toBe(report.counts.csdsQueued + report.counts.callbacksLocal);
    }
  });

  it.each([
    ["flat", 8, {}],
    ["physflat", 64, { shorthand: "off" }],
    ["x2apic-cluster", 64, { shorthand: "off" }],
    ["x2apic-cluster", 64, {}],
    ["x2apic-phys", 64, { shorthand: "off" }],
    ["x2apic-cluster", 300, { pvIpi: "true", shorthand: "off" }],
  ] as const)(
    "every call runs exactly once per target (kernel.stats.callbacksOn): %s, %d CPUs %j",
    (mode, cpus, extra) => {
      const sys = x86(cpus, { apic: mode, ...extra });
      const rounds = 3;
      const seen = new Array<number>(cpus).fill(0);
      const fn = (_info: unknown, cpu: number): void => {
        seen[cpu]++;
      };
      for (const sender of [0, cpus - 1]) {
        spawnProgram(sys, sender, function* () {
          for (let i = 0; i < rounds; i++) {
            yield 300;
            yield* sys.kernel.smpCallFunction(fn, null, true);
            yield* sys.kernel.smpCallFunctionSingle((sender + 1) % cpus, fn, null, true);
          }
        });
      }
      expect(sys.run().status).toBe("completed");
      // Each CPU gets one broadcast per round from every sender but itself, plus the singles aimed at it.
      const expected = Array.from(
        { length: cpus },
        (_, c) => rounds * ((c === 0 || c === cpus - 1 ? 1 : 2) + (c === 1 || c === 0 ? 1 : 0)),
      );
      expect(seen).toEqual(expected);
      expect(Array.from(sys.kernel.stats.callbacksOn)).toEqual(expected);
      expect(sys.machine.problems).toEqual([]);
      const st = sys.arch.statistics();
      expect(st.eois).toBe(
        st.interruptsCallFunction + st.interruptsCallFunctionSingle + st.interruptsReschedule,
      );
    },
  );

  it("vector lines: higher vector, lower line (taken first)", () => {
    expect(lineOfVector(0xfd)).toBeLessThan(lineOfVector(0xfc));
    expect(lineOfVector(0xfc)).toBeLessThan(lineOfVector(0xfb));
  });
});
