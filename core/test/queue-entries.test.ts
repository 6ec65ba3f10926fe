import { describe, expect, it } from "@jest/globals";
import { descriptor as generic } from "@smpcall/arch-generic";
import { formatRunReport, runWorkload, type CpuCode, type WakeTask } from "@smpcall/core";
import { program, testSystem, irqsOffFor } from "./helpers";

describe("the rest of the queue: irq_work and remote wake-ups (kernel-smp.md section 9b)", () => {
  it("one flush: SYNC first, then ASYNC and irq_work in queue order, then every wake-up in one batch; one IPI for all", () => {
    const sys = testSystem(4);
    const k = sys.kernel;
    const order: string[] = [];
    function a_fn(tag: string): void {
      order.push(tag);
    }
    function work_fn(tag: string): void {
      order.push(tag);
    }
    const wake = (task: WakeTask, cpu: number): void => void order.push(`${task.name}@${cpu}`);
    const t0 = k.initTask("t0", wake);
    const t1 = k.initTask("t1", wake);
    irqsOffFor(sys, 3, 100_000);
    program(sys, 0, function* () {
      yield 100;
      expect(yield* k.ttwuQueueWakelist(3, t0)).toBe(true);
      yield* k.smpCallFunctionSingleAsync(3, k.initCsd(a_fn, "a0"));
      expect(yield* k.irqWorkQueueOn(k.initIrqWork(work_fn, "w0"), 3)).toBe(true);
      yield* k.smpCallFunctionSingleAsync(3, k.initCsd(a_fn, "a1"));
    });
    program(sys, 1, function* () {
      yield 2000;
      expect(yield* k.ttwuQueueWakelist(3, t1)).toBe(true);
      yield* k.smpCallFunctionSingle(3, a_fn, "s0", true);
    });
    expect(sys.run().status).toBe("completed");
    expect(order).toEqual(["s0", "a0", "w0", "a1", "t0@3", "t1@3"]);
    expect(k.stats.ipiTargets).toBe(1);
    expect(k.stats).toMatchObject({ irqWorkRun: 1, ttwuActivated: 2, ttwuBatches: 1 });
    expect(Array.from(k.callSingleQueue.addedByType)).toEqual([2, 1, 1, 2]);
    expect(Array.from(k.callSingleQueue.joinedByType)).toEqual([2, 1, 1, 1]);
    expect([t0.waking, t1.waking, t0.lastCpu]).toEqual([false, false, 3]);
  });

  it("an irq_work still pending is not queued again; once it ran it can be", () => {
    const sys = testSystem(3);
    const k = sys.kernel;
    let runs = 0;
    const work = k.initIrqWork(function count_fn(): void {
      runs++;
    });
    const rets: boolean[] = [];
    irqsOffFor(sys, 2, 20_000);
    program(sys, 0, function* () {
      yield 100;
      rets.push(yield* k.irqWorkQueueOn(work, 2));
      rets.push(yield* k.irqWorkQueueOn(work, 2));
      yield 50_000;
      rets.push(yield* k.irqWorkQueueOn(work, 2));
    });
    expect(sys.run().status).toBe("completed");
    expect(rets).toEqual([true, false, true]);
    expect(runs).toBe(2);
  });

  it("an irq_work can be queued again while its func runs (irq_work_single clears PENDING before the call; BUSY is not modelled)", () => {
    for (const memory of ["sc", "tso", "lkmm"] as const) {
      const sys = testSystem(3, { memory });
      const k = sys.kernel;
      const ranOn: number[] = [];
      let running = false;
      const work = k.initIrqWork(function* slow_work(_: unknown, cpu: number): CpuCode<void> {
        running = true;
        ranOn.push(cpu);
        yield 20_000;
        running = false;
      });
      const rets: boolean[] = [];
      program(sys, 0, function* () {
        yield 100;
        rets.push(yield* k.irqWorkQueueOn(work, 2));
        rets.push(yield* k.irqWorkQueueOn(work, 1)); // still pending on CPU 2: refused
        yield 10_000;
        rets.push(running);
        rets.push(yield* k.irqWorkQueueOn(work, 1)); // its func runs on CPU 2: queued
        yield 50_000;
      });
      const out = sys.run();
      expect([memory, out.status, out.problems]).toEqual([memory, "completed", []]);
      expect(rets).toEqual([true, false, true, true]);
      expect(ranOn).toEqual([2, 1]);
      expect(k.stats.irqWorkRun).toBe(2);
    }
  });

  it("a wake-up is not queued for the caller, an offline CPU or a task already waking", () => {
    const sys = testSystem(3);
    const k = sys.kernel;
    const t = k.initTask("sleeper");
    const rets: boolean[] = [];
    k.cpuDown(2);
    irqsOffFor(sys, 1, 20_000);
    program(sys, 0, function* () {
      yield 100;
      rets.push(yield* k.ttwuQueueWakelist(0, t));
      rets.push(yield* k.ttwuQueueWakelist(2, t));
      rets.push(yield* k.ttwuQueueWakelist(1, t));
      rets.push(yield* k.ttwuQueueWakelist(1, t));
    });
    sys.run();
    expect(rets).toEqual([false, false, true, false]);
    expect(t.wakeups).toBe(1);
  });

  it("a wake-up is not queued on a CPU being taken down: from its cpuDown request on (6.1's ttwu_queue_cond: !cpu_active) until it is back up", () => {
    const sys = testSystem(3);
    const k = sys.kernel;
    const t = k.initTask("sleeper");
    const rets: (boolean | number)[] = [];
    program(sys, 0, function* () {
      yield 100;
      expect(k.cpuDown(2)).toBe(0);
      // Still online (the stop has not run: this CPU has not yielded), but no longer active.
      rets.push(sys.machine.cpus[2].online);
      rets.push(yield* k.ttwuQueueWakelist(2, t));
      yield 50_000;
      rets.push(sys.machine.cpus[2].online);
      rets.push(yield* k.ttwuQueueWakelist(2, t));
      rets.push(t.wakeups);
      expect(k.cpuUp(2)).toBe(0);
      yield 50_000;
      rets.push(yield* k.ttwuQueueWakelist(2, t));
      yield 50_000;
    });
    expect(sys.run().status).toBe("completed");
    expect(rets).toEqual([true, false, false, false, 0, true]);
    expect([t.wakeups, t.lastCpu]).toEqual([1, 2]);
  });

  it("a wake-up to a CPU running a task program leaves its need_resched alone (as reschedCurr does: nothing would clear it)", () => {
    const sys = testSystem(2);
    const k = sys.kernel;
    let wokenIdle: boolean | null = null;
    const t = k.initTask("woken", (_task, cpu) => void (wokenIdle = sys.machine.cpus[cpu].idle));
    const seen: boolean[] = [];
    program(sys, 1, function* () {
      yield 20_000;
      seen.push(sys.machine.cpus[1].needResched);
    });
    program(sys, 0, function* () {
      yield 1000;
      expect(yield* k.ttwuQueueWakelist(1, t)).toBe(true);
    });
    expect(sys.run().status).toBe("completed");
    expect([t.wakeups, wokenIdle, k.stats.ipisSingle]).toEqual([1, false, 1]);
    expect(seen).toEqual([false]);
  });

  it("a wake-up to a halted CPU is activated in the IPI handler and makes the idle loop leave; to a polling one, no IPI", () => {
    for (const idle of ["halt", "mwait"] as const) {
      const sys = testSystem(2, { idle });
      const k = sys.kernel;
      let hardirq = -1;
      const t = k.initTask("woken", (_task, cpu) => void (hardirq = sys.machine.cpus[cpu].hardirqDepth));
      program(sys, 0, function* () {
        yield 5000;
        yield* k.ttwuQueueWakelist(1, t);
      });
      expect(sys.run().status).toBe("completed");
      expect(t.wakeups).toBe(1);
      if (idle === "halt") {
        expect([hardirq, k.stats.ipisSingle, k.stats.idlePollKicks]).toEqual([1, 1, 0]);
      } else {
        expect([hardirq, k.stats.ipisSingle, k.stats.idlePollKicks]).toEqual([0, 0, 1]);
        expect(sys.trace.count("sched_wake_idle_without_ipi")).toBe(1);
      }
      expect(sys.machine.cpus[1].needResched).toBe(false);
    }
  });

  it("entries flushed on a CPU that left the online mask warn with the kernel's text per type", () => {
    const sys = testSystem(3);
    const k = sys.kernel;
    function work_fn(): void {}
    irqsOffFor(sys, 2, 20_000);
    program(sys, 0, function* () {
      yield 100;
      yield* k.ttwuQueueWakelist(2, k.initTask("t"));
      yield* k.irqWorkQueueOn(k.initIrqWork(work_fn), 2);
      sys.machine.cpus[2].online = false;
      sys.machine.onlineMask.clear(2);
    });
    sys.run();
    const msgs = k.warnings.records.map((w) => w.message);
    expect(msgs).toContain("IPI on offline CPU 2");
    expect(msgs).toContain("IPI task-wakeup sent to offline CPU");
    expect(msgs).toContain("IPI callback work_fn sent to offline CPU");
  });

  it("irq_work_queue_on to an offline CPU warns (kernel/irq_work.c:134 on 6.1) and queues it anyway; it runs when the CPU is back", () => {
    const sys = testSystem(3);
    const k = sys.kernel;
    let ranOn = -1;
    const work = k.initIrqWork(function late_work(_: unknown, cpu: number): void {
      ranOn = cpu;
    });
    k.cpuDown(2);
    program(sys, 0, function* () {
      yield 100;
      expect(yield* k.irqWorkQueueOn(work, 2)).toBe(true);
      yield 10_000;
      expect(ranOn).toBe(-1);
      k.cpuUp(2);
      yield 10_000;
    });
    sys.run();
    expect(ranOn).toBe(2);
    const w = k.warnings.records.find((r) => r.site === "irq_work_queue_on:offline")!;
    expect(w.kernelText).toMatch(/ at kernel\/irq_work\.c:134 irq_work_queue_on$/);
  });

  it("queueing an irq_work on the calling CPU is refused (local irq_work is not modelled)", () => {
    const sys = testSystem(2);
    const k = sys.kernel;
    program(sys, 0, function* (): CpuCode<void> {
      yield* k.irqWorkQueueOn(
        k.initIrqWork(() => undefined),
        0,
      );
    });
    expect(() => sys.run()).toThrow(/calling CPU; local irq_work/);
  });
});

describe("the sched-wakeups workload", () => {
  const run = (idle: "halt" | "mwait") =>
    runWorkload({ cpus: 12, seed: 3, arch: generic, workload: "sched-wakeups", ops: 600, idle });

  it("mixes remote wake-ups, reschedules, irq_work and calls; the report counts queue entries per type and which needed no IPI", () => {
    const { outcome, report, system } = run("halt");
    expect(outcome.status).toBe("completed");
    expect(outcome.problems).toEqual([]);
    const c = report.counts;
    for (const t of ["async", "sync", "irqWork", "ttwu"] as const) {
      expect(c.queueEntries[t]).toBeGreaterThan(0);
      expect(c.queueEntriesWithoutIpi[t]).toBeLessThanOrEqual(c.queueEntries[t]);
    }
    expect(c.rescheduleIpis).toBeGreaterThan(0);
    // Entries that joined a non-empty queue are exactly the IPIs saved, whatever their type.
    const j = c.queueEntriesWithoutIpi;
    expect(j.async + j.sync + j.irqWork + j.ttwu).toBe(c.ipisSaved);
    // Wake-ups come in bursts to one CPU: most of them ride on another entry's IPI.
    expect(j.ttwu / c.queueEntries.ttwu).toBeGreaterThan(0.3);
    expect(c.ttwuActivated).toBe(c.queueEntries.ttwu);
    expect(c.ttwuBatches).toBeLessThan(c.ttwuActivated);
    expect(c.irqWorkRun).toBe(c.queueEntries.irqWork);
    expect(formatRunReport(report)).toMatch(
      /queue entries +\d+: async \d+, sync \d+, irq_work \d+, ttwu \d+/,
    );
    expect(system.kernel.callSingleQueue.isEmpty(0)).toBe(true);
  });

  it("MWAIT idle turns more of the wake-ups to idle CPUs into need_resched writes instead of IPIs", () => {
    const halt = run("halt").report.counts;
    const mwait = run("mwait").report.counts;
    expect(mwait.idlePollWakeups).toBeGreaterThan(halt.idlePollWakeups);
    expect(mwait.ipisSent).toBeLessThan(halt.ipisSent);
  });
});

describe("irq_work and wake-list entry points refuse what is not theirs", () => {
  it("irqWorkQueueOn needs an irq_work of initIrqWork and an existing CPU; initTask a name; ttwuQueueWakelist a task", () => {
    const sys = testSystem(2);
    const k = sys.kernel;
    const csd = k.initCsd(() => undefined, null);
    const thrown: string[] = [];
    program(sys, 0, function* (): CpuCode<void> {
      for (const call of [
        () => k.irqWorkQueueOn(csd, 1),
        () => k.irqWorkQueueOn({} as never, 1),
        () =>
          k.irqWorkQueueOn(
            k.initIrqWork(() => undefined),
            2,
          ),
        () => k.ttwuQueueWakelist(1, {} as never),
      ]) {
        try {
          yield* call();
        } catch (e) {
          thrown.push(`${(e as Error).name}: ${(e as Error).message.split(":")[0]}`);
        }
      }
    });
    sys.run();
    expect(thrown).toEqual([
      "InvalidArgumentError: irqWorkQueueOn",
      "InvalidArgumentError: irqWorkQueueOn",
      "InvalidArgumentError: irqWorkQueueOn",
      "InvalidArgumentError: ttwuQueueWakelist",
    ]);
    expect(() => k.initTask("")).toThrow(/^initTask: name must be a non-empty string/);
    expect(() => k.initTask(7 as never)).toThrow(/^initTask: name must be a non-empty string/);
    expect(() => k.initTask("t", 5 as never)).toThrow(/initTask/);
  });
});
