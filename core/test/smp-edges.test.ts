import { describe, expect, it } from "@jest/globals";
import { CpuMask, type CpuCode, type TraceRecord } from "@smpcall/core";
import { descriptor as x86 } from "@smpcall/arch-x86";
import { ipiAfterOffline, irqsOffFor, program, testSystem } from "./helpers";

/** The trace records named `name`, as `cpu name field=value ...` lines (easy to compare whole). */
function traced(records: readonly TraceRecord[], name: string): string[] {
  return records
    .filter((r) => r.name === name)
    .map(
      (r) =>
        `${r.cpu} ${Object.entries(r.fields)
          .map(([k, v]) => `${k}=${String(v)}`)
          .join(" ")}`,
    );
}

describe("what a callback returns", () => {
  it("a callback's return value is ignored unless it is a generator: null, {}, a number, an array (iterable, no next()) or an object with only next() all complete", () => {
    for (const value of [null, {}, 7, "text", ["not a step"], { next: () => ({ done: true }) }]) {
      const sys = testSystem(3);
      const ran: number[] = [];
      program(sys, 0, function* () {
        yield 100;
        yield* sys.kernel.smpCallFunctionMany(
          CpuMask.of(3, [0, 1, 2]),
          (_: unknown, cpu: number) => {
            ran.push(cpu);
            return value as never;
          },
          null,
          true,
        );
        yield* sys.kernel.smpCallFunctionSingle(0, () => value as never, null, true);
      });
      expect([value, sys.run().status]).toEqual([value, "completed"]);
      expect(ran.sort()).toEqual([1, 2]);
      expect(sys.kernel.stats.callbacksRun).toBe(3);
    }
  });

  it("a callback that returns a generator runs it as the callback's code (its steps are the callback's time)", () => {
    const sys = testSystem(2);
    let doneAt = -1;
    let calledAt = -1;
    program(sys, 0, function* () {
      yield 100;
      calledAt = sys.machine.now;
      yield* sys.kernel.smpCallFunctionSingle(
        0,
        function* (): CpuCode<void> {
          yield 70_000;
        },
        null,
        true,
      );
      doneAt = sys.machine.now;
    });
    expect(sys.run().status).toBe("completed");
    expect(doneAt - calledAt).toBeGreaterThanOrEqual(70_000);
  });
});

describe("local calls and their statistics", () => {
  it("a call that runs on the caller counts as local and adds no latency sample; queued ones add one each", () => {
    const sys = testSystem(4);
    program(sys, 1, function* () {
      yield 100;
      yield* sys.kernel.smpCallFunctionSingle(1, () => undefined, null, true);
      yield* sys.kernel.onEachCpu(() => undefined, null, true);
    });
    expect(sys.run().status).toBe("completed");
    const st = sys.kernel.stats;
    expect([st.callbacksLocal, st.latency.count, st.callbacksRun]).toEqual([2, 3, 5]);
    expect(st.latency.percentile(0)).toBeGreaterThan(0);
  });

  it("lockdep is off unless asked: a many-call with interrupts disabled records no lockdep warning by default", () => {
    const sys = testSystem(3);
    program(sys, 0, function* () {
      sys.machine.localIrqDisable();
      yield* sys.kernel.smpCallFunctionMany(CpuMask.of(3, [1, 2]), () => undefined, null, false);
      sys.machine.localIrqEnable();
    });
    sys.run();
    expect(sys.kernel.lockdep).toBe(false);
    expect(sys.kernel.warnings.records.map((w) => w.site)).toEqual([]);
  });
});

describe("what the trace shows of queueing", () => {
  it("an IPI saved because the target's queue was not empty is traced as smpcall_ipi_saved, by single and many calls alike", () => {
    const sys = testSystem(4);
    irqsOffFor(sys, 3, 200_000);
    program(sys, 0, function* () {
      yield 100;
      yield* sys.kernel.smpCallFunctionSingle(3, function first() {}, null, false);
    });
    program(sys, 1, function* () {
      yield 2_000;
      yield* sys.kernel.smpCallFunctionSingle(3, function second() {}, null, false);
    });
    program(sys, 2, function* () {
      yield 5_000;
      yield* sys.kernel.smpCallFunctionMany(CpuMask.of(4, [3]), function third() {}, null, false);
    });
    expect(sys.run().status).toBe("completed");
    const recs = sys.trace.records;
    const csdOf = (func: string): string =>
      String(recs.find((r) => r.name === "csd_queue_cpu" && r.fields.func === func)!.fields.csd);
    expect(traced(recs, "smpcall_ipi_saved")).toEqual([
      `1 cpu=3 csd=${csdOf("second")}`,
      `2 cpu=3 csd=${csdOf("third")}`,
    ]);
    expect(sys.kernel.stats.ipisSaved).toBe(2);
  });

  it("a many-call's csd_queue_cpu names the callback and the callsite smp_call_function_many_cond", () => {
    const sys = testSystem(3);
    program(sys, 0, function* () {
      yield 100;
      yield* sys.kernel.smpCallFunctionMany(CpuMask.of(3, [1, 2]), function flush_tlb_func() {}, null, true);
    });
    expect(sys.run().status).toBe("completed");
    expect(traced(sys.trace.records, "csd_queue_cpu").map((l) => l.replace(/ csd=\S+/, ""))).toEqual([
      "0 cpu=1 callsite=smp_call_function_many_cond func=flush_tlb_func",
      "0 cpu=2 callsite=smp_call_function_many_cond func=flush_tlb_func",
    ]);
  });

  it("interrupts are saved and restored under the kernel function that does it (on_each_cpu's local call, the wake list, the idle flush)", () => {
    const sys = testSystem(3, { lockdep: true, idle: "poll" });
    const task = sys.kernel.initTask("worker");
    program(sys, 1, function* () {
      yield 100;
      yield* sys.kernel.onEachCpu(() => undefined, null, true);
      yield 50_000;
      expect(yield* sys.kernel.ttwuQueueWakelist(2, task)).toBe(true);
    });
    expect(sys.run().status).toBe("completed");
    const pairs = new Set(
      sys.trace.records
        .filter((r) => r.name === "irq_disable" || r.name === "irq_enable")
        .map((r) => `${r.name} ${String(r.fields.caller)}/${String(r.fields.parent)}`),
    );
    for (const p of [
      "smp_call_function_many_cond/on_each_cpu_cond_mask",
      "try_to_wake_up/ttwu_queue_wakelist",
      "flush_smp_call_function_queue/do_idle",
    ]) {
      expect([p, pairs.has(`irq_disable ${p}`), pairs.has(`irq_enable ${p}`)]).toEqual([p, true, true]);
    }
    expect(task.wakeups).toBe(1);
  });
});

describe("wake_up_all_idle_cpus", () => {
  it("kicks every other idle CPU (callsite wake_up_if_idle) and none that is busy or the caller", () => {
    const sys = testSystem(4);
    program(sys, 3, function* () {
      yield 400_000;
    });
    program(sys, 0, function* () {
      yield 100;
      yield* sys.kernel.wakeUpAllIdleCpus();
    });
    expect(sys.run().status).toBe("completed");
    expect(traced(sys.trace.records, "ipi_send_cpu")).toEqual([
      "0 cpu=1 callsite=wake_up_if_idle callback=scheduler_ipi",
      "0 cpu=2 callsite=wake_up_if_idle callback=scheduler_ipi",
    ]);
    expect(sys.kernel.stats.rescheduleIpis).toBe(2);
  });

  it("sends each reschedule IPI with interrupts off (6.1's wake_up_if_idle holds the runqueue lock irqsave) and preemption off", () => {
    const sys = testSystem(3);
    const during: [boolean, number][] = [];
    const send = sys.kernel.smpSendReschedule.bind(sys.kernel);
    sys.kernel.smpSendReschedule = function (cpu, callsite) {
      const c = sys.machine.cpus[sys.machine.current];
      during.push([c.irqsDisabled, c.preemptCount]);
      return send(cpu, callsite);
    };
    program(sys, 0, function* () {
      yield 20_000;
      yield* sys.kernel.wakeUpAllIdleCpus();
      during.push([sys.machine.cpus[0].irqsDisabled, sys.machine.cpus[0].preemptCount]);
    });
    expect(sys.run().status).toBe("completed");
    expect(during).toEqual([
      [true, 1],
      [true, 1],
      [false, 0],
    ]);
    expect(sys.trace.named("irq_disable").map((r) => [r.fields.caller, r.fields.parent])).toContainEqual([
      "wake_up_if_idle",
      "wake_up_all_idle_cpus",
    ]);
  });

  it("a polling idle CPU is woken by its need_resched flag, without an IPI", () => {
    const sys = testSystem(3, { idle: "poll" });
    let sawResched = false;
    program(sys, 0, function* () {
      yield 100;
      yield* sys.kernel.wakeUpAllIdleCpus();
      sawResched = sys.machine.cpus[1].needResched && sys.machine.cpus[2].needResched;
    });
    expect(sys.run().status).toBe("completed");
    expect(sawResched).toBe(true);
    expect(sys.kernel.stats.rescheduleIpis).toBe(0);
    expect(traced(sys.trace.records, "ipi_send_cpu")).toEqual([]);
  });

  it("traces sched_wake_idle_without_ipi for a polling idle CPU, and does nothing where need_resched is already set (resched_curr)", () => {
    const sys = testSystem(3, { idle: "poll" });
    program(sys, 0, function* () {
      yield 100;
      yield* sys.kernel.wakeUpAllIdleCpus();
      // need_resched is still set on CPUs 1 and 2: resched_curr returns at once for each.
      yield* sys.kernel.wakeUpAllIdleCpus();
    });
    expect(sys.run().status).toBe("completed");
    expect(traced(sys.trace.records, "sched_wake_idle_without_ipi")).toEqual(["0 cpu=1", "0 cpu=2"]);
    expect(sys.kernel.stats.rescheduleIpis).toBe(0);
  });
});

describe("entry checks name the function that was called", () => {
  it("smp_call_function_single_async and smp_send_reschedule name themselves for a CPU id that is not an integer", () => {
    const sys = testSystem(2);
    const csd = sys.kernel.initCsd(() => undefined, null);
    const thrown: string[] = [];
    program(sys, 0, function* () {
      for (const call of [
        () => sys.kernel.smpCallFunctionSingleAsync(1.5, csd),
        () => sys.kernel.smpSendReschedule(1.5),
      ]) {
        try {
          yield* call();
        } catch (e) {
          thrown.push((e as Error).message.split(":")[0]);
        }
      }
    });
    sys.run();
    expect(thrown).toEqual(["smpCallFunctionSingleAsync", "smpSendReschedule"]);
  });
});

describe("the time a flush spends", () => {
  it("each queued callback takes the cost model's callbackNs (the flush's first one its flushSetupNs too), one that is code its own time", () => {
    const callbackNs = 1_000;
    const flushSetupNs = 300;
    const sys = testSystem(4, { cost: { callbackNs, flushSetupNs } });
    irqsOffFor(sys, 3, 100_000);
    const slow = function* (): CpuCode<void> {
      yield 5_000;
    };
    for (const cpu of [0, 1, 2])
      program(sys, cpu, function* () {
        yield 100 + cpu * 1_000;
        yield* sys.kernel.smpCallFunctionSingle(3, cpu === 2 ? slow : () => undefined, cpu, cpu !== 1);
      });
    expect(sys.run().status).toBe("completed");
    const spans: number[] = [];
    let entry = -1;
    for (const r of sys.trace.records) {
      if (r.cpu !== 3) continue;
      if (r.name === "csd_function_entry") entry = r.ts;
      else if (r.name === "csd_function_exit") spans.push(r.ts - entry);
    }
    // One flush: the two synchronous csds first (pass 1; CPU 2's callback is code that takes its
    // own time), then the asynchronous one.
    expect(spans).toEqual([callbackNs + flushSetupNs, 5_000, callbackNs]);
  });
});

describe("smp_call_function_any's choice", () => {
  /** 8 CPUs in NUMA nodes of two: {0,1} {2,3} {4,5} {6,7}. */
  const numa = { threadsPerCore: 1, coresPerPackage: 2, packagesPerNode: 1 };

  function anyRunsOn(maskCpus: number[], offline: number[] = []): number[] {
    const sys = testSystem(8, { topology: numa });
    for (const cpu of offline) expect(sys.kernel.cpuDown(cpu)).toBe(0);
    const ran: number[] = [];
    program(sys, 4, function* () {
      yield 100;
      yield* sys.kernel.smpCallFunctionAny(
        CpuMask.of(8, maskCpus),
        (_: unknown, cpu: number) => void ran.push(cpu),
        null,
        true,
      );
    });
    expect(sys.run().status).toBe("completed");
    return ran;
  }

  it("prefers an online CPU of the caller's NUMA node, then the first online CPU of the mask", () => {
    expect(anyRunsOn([1, 6, 5, 7])).toEqual([5]);
    expect(anyRunsOn([1, 6, 5], [5])).toEqual([1]);
    expect(anyRunsOn([2, 6], [2])).toEqual([6]);
  });
});

describe("ids and callsites of the kernel's other queue entries", () => {
  it("csds, irq_works and tasks get distinct ids; an irq_work is queued from irq_work_queue_on", () => {
    const sys = testSystem(3);
    const k = sys.kernel;
    const ids = [
      k.initCsd(() => undefined, null).id,
      k.initIrqWork(() => undefined).id,
      k.initIrqWork(() => undefined).id,
      k.initTask("a").wakeEntry.id,
      k.initTask("b").wakeEntry.id,
    ];
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.every((id) => id > 0)).toBe(true);
    program(sys, 0, function* () {
      yield 100;
      yield* k.irqWorkQueueOn(
        k.initIrqWork(function my_work() {}),
        2,
      );
    });
    expect(sys.run().status).toBe("completed");
    expect(traced(sys.trace.records, "csd_queue_cpu").map((l) => l.replace(/ csd=\S+/, ""))).toEqual([
      "0 cpu=2 callsite=irq_work_queue_on func=my_work",
    ]);
  });

  it("a many-call with one target sends its IPI from smp_call_function_many_cond", () => {
    const sys = testSystem(3);
    program(sys, 0, function* () {
      yield 100;
      yield* sys.kernel.smpCallFunctionMany(CpuMask.of(3, [2]), () => undefined, null, true);
    });
    expect(sys.run().status).toBe("completed");
    expect(traced(sys.trace.records, "ipi_send_cpu")).toEqual([
      "0 cpu=2 callsite=smp_call_function_many_cond callback=generic_smp_call_function_single_interrupt",
    ]);
  });

  it("a batch of remote wake-ups takes one callback time per task and leaves need_resched alone on a CPU running a task", () => {
    const callbackNs = 1_000;
    /** The wake-list IPI handler's time on CPU 3 for `n` tasks woken while it had interrupts off. */
    function batch(n: number): { handlerNs: number; resched: boolean } {
      const sys = testSystem(4, { cost: { callbackNs, flushSetupNs: 300 } });
      const k = sys.kernel;
      const tasks = Array.from({ length: n }, (_, i) => k.initTask(`t${i}`));
      let resched = false;
      program(sys, 3, function* () {
        sys.machine.localIrqDisable();
        yield 50_000;
        sys.machine.localIrqEnable();
        yield 1; // the IPI is taken here
        resched = sys.machine.cpus[3].needResched;
      });
      program(sys, 0, function* () {
        yield 100;
        for (const t of tasks) expect(yield* k.ttwuQueueWakelist(3, t)).toBe(true);
      });
      expect(sys.run().status).toBe("completed");
      expect(tasks.map((t) => [t.wakeups, t.lastCpu])).toEqual(tasks.map(() => [1, 3]));
      expect([k.stats.ttwuActivated, k.stats.ttwuBatches]).toEqual([n, 1]);
      const on3 = sys.trace.records.filter((r) => r.cpu === 3);
      const entry = on3.find((r) => r.name === "ipi_entry")!.ts;
      const exit = on3.find((r) => r.name === "ipi_exit")!.ts;
      return { handlerNs: exit - entry, resched };
    }
    const one = batch(1);
    const three = batch(3);
    expect(three.handlerNs - one.handlerNs).toBe(2 * callbackNs);
    // 6.1's check_preempt_curr sets it on a busy CPU only if a woken task preempts, and the next
    // schedule clears it; the model has no scheduler to ask, so a task program is not disturbed
    // (an idle CPU gets it: core/test/queue-entries.test.ts).
    expect([one.resched, three.resched]).toEqual([false, false]);
  });
});

describe("a bad step in a callback names the callback", () => {
  it("an irq_work or a queued callback that yields a negative cost stops the run with InvalidStepError naming it", () => {
    const sys = testSystem(3);
    const k = sys.kernel;
    program(sys, 0, function* () {
      yield 100;
      yield* k.irqWorkQueueOn(
        k.initIrqWork(function* bad_work(): CpuCode<void> {
          yield -5;
        }),
        2,
      );
    });
    expect(() => sys.run()).toThrow(
      /^callback bad_work on CPU 2 yielded -5: a step cost must be a number of ns/,
    );
  });
});

describe("csd_unlock of a csd that is not locked", () => {
  it("warns naming the csd and its callback, and leaves it unlocked", () => {
    const sys = testSystem(2);
    const k = sys.kernel;
    const csd = k.initCsd(function never_queued() {}, null);
    program(sys, 1, function* () {
      yield 100;
      k.csdUnlock(csd);
    });
    expect(sys.run().status).toBe("completed");
    expect(k.warnings.records.map((w) => [w.site, w.cpu, w.message])).toEqual([
      ["csd_unlock:not-locked", 1, `csd_unlock of csd#${csd.id} (never_queued) that is not locked`],
    ]);
    expect(csd.locked).toBe(false);
  });
});

describe("the statistics a report shows: calls issued, -EBUSY, IPIs per sender", () => {
  it("every single, async and many call counts once, an async call on a busy csd counts as -EBUSY, and IPIs are counted on the CPU that sent them", () => {
    const sys = testSystem(4);
    const k = sys.kernel;
    const csd = k.initCsd(() => undefined, null);
    const rets: number[] = [];
    program(sys, 0, function* () {
      yield 100;
      yield* k.smpCallFunctionSingle(1, () => undefined, null, true);
      yield* k.smpCallFunctionSingle(2, () => undefined, null, false);
      rets.push(yield* k.smpCallFunctionSingleAsync(3, csd));
      rets.push(yield* k.smpCallFunctionSingleAsync(3, csd)); // still locked: -EBUSY
      yield* k.smpCallFunctionMany(CpuMask.of(4, [1, 2, 3]), () => undefined, null, true);
    });
    expect(sys.run().status).toBe("completed");
    expect(rets).toEqual([0, -16]);
    expect([k.stats.callsIssued, k.stats.ebusy]).toEqual([5, 1]);
    // Only CPU 0 sent: its count is every single IPI, the others' none.
    expect(k.stats.ipisSingle).toBeGreaterThanOrEqual(3);
    expect(Array.from(k.stats.ipisFrom)).toEqual([k.stats.ipisSingle, 0, 0, 0]);
  });
});

describe("CPU ids that are integers but not CPUs of the machine", () => {
  it("smp_call_function_single to -1 or nr_cpu_ids returns -ENXIO and sends nothing, as to an offline CPU", () => {
    const sys = testSystem(4);
    const k = sys.kernel;
    k.cpuDown(3);
    const rets: number[] = [];
    program(sys, 0, function* () {
      yield 100;
      for (const cpu of [-1, 4, 3])
        rets.push(yield* k.smpCallFunctionSingle(cpu, () => undefined, null, true));
    });
    expect(sys.run().status).toBe("completed");
    expect(rets).toEqual([-6, -6, -6]);
    expect([k.stats.ipisSingle, k.stats.callbacksRun]).toEqual([0, 0]);
  });

  it("smp_send_reschedule to -1 or to nr_cpu_ids sends nothing and returns; to an offline CPU it is the arch's (6.1's generic code does not filter it)", () => {
    const sys = testSystem(4);
    const k = sys.kernel;
    k.cpuDown(3);
    const sent: number[] = [];
    const send = sys.arch.sendRescheduleIpi.bind(sys.arch);
    sys.arch.sendRescheduleIpi = (cpu: number) => {
      sent.push(cpu);
      return send(cpu);
    };
    program(sys, 0, function* () {
      yield 100;
      for (const cpu of [-1, 4, 3]) yield* k.smpSendReschedule(cpu);
    });
    expect(sys.run().status).toBe("completed");
    expect(sent).toEqual([3]);
    expect([k.stats.rescheduleIpis, k.stats.ipisSingle, k.stats.ipisMask]).toEqual([1, 0, 0]);
  });

  it("irq_work_queue_on refuses -1 and nr_cpu_ids naming the range; an online target gives no warning, an offline one the kernel's", () => {
    const sys = testSystem(4);
    const k = sys.kernel;
    const work = k.initIrqWork(() => undefined);
    const other = k.initIrqWork(() => undefined);
    const thrown: string[] = [];
    k.cpuDown(3);
    program(sys, 0, function* () {
      yield 100;
      for (const cpu of [-1, 4])
        try {
          yield* k.irqWorkQueueOn(work, cpu);
        } catch (e) {
          thrown.push((e as Error).message);
        }
      expect(yield* k.irqWorkQueueOn(work, 1)).toBe(true);
      yield 10_000;
      expect(k.warnings.records).toEqual([]);
      expect(yield* k.irqWorkQueueOn(other, 3)).toBe(true);
    });
    sys.run();
    expect(thrown).toEqual([
      "irqWorkQueueOn: CPU -1 does not exist (0..3)",
      "irqWorkQueueOn: CPU 4 does not exist (0..3)",
    ]);
    expect(k.warnings.records.map((w) => [w.site, w.message])).toEqual([
      [
        "irq_work_queue_on:offline",
        "irq_work_queue_on to offline CPU 3: all work should have been flushed before it went offline",
      ],
    ]);
  });

  it("ttwu_queue_wakelist to -1 or nr_cpu_ids queues nothing and returns false (as for the caller or an offline CPU)", () => {
    const sys = testSystem(4);
    const k = sys.kernel;
    const task = k.initTask("t");
    const got: boolean[] = [];
    program(sys, 0, function* () {
      yield 100;
      for (const cpu of [-1, 4, 0]) got.push(yield* k.ttwuQueueWakelist(cpu, task));
    });
    expect(sys.run().status).toBe("completed");
    expect(got).toEqual([false, false, false]);
    expect(task.wakeups).toBe(0);
  });
});

describe("what the user sees of warnings, call sites and latency", () => {
  it("a call from a callback (hard IRQ) warns 'called from hard-IRQ context', naming the CPU", () => {
    const sys = testSystem(3);
    const k = sys.kernel;
    program(sys, 0, function* () {
      yield 100;
      yield* k.smpCallFunctionSingle(
        1,
        function* nested(): CpuCode<void> {
          yield* k.smpCallFunctionSingle(2, () => undefined, null, false);
        },
        null,
        true,
      );
    });
    expect(sys.run().status).toBe("completed");
    const w = k.warnings.records.find((r) => r.site === "smp_call_function_single:not-in-task");
    expect(w?.message).toBe("smp_call_function_single called from hard-IRQ context on CPU 1: can deadlock");
  });

  it("a preemptible many-call under lockdep says a CPU can go offline under it", () => {
    const sys = testSystem(3, { lockdep: true });
    program(sys, 0, function* () {
      yield* sys.kernel.smpCallFunctionMany(sys.machine.onlineMask, () => undefined, null, true);
    });
    sys.run();
    expect(sys.kernel.warnings.records.map((w) => w.message)).toEqual([
      "smp_call_function_many_cond called with preemption enabled on CPU 0: a CPU can go offline under it",
    ]);
  });

  it("csd_queue_cpu names the callers of __smp_call_single_queue as call sites (mainline tracepoints: its return address)", () => {
    const sys = testSystem(3, { kernel: "mainline" });
    const k = sys.kernel;
    const csd = k.initCsd(function async_fn() {}, null);
    const task = k.initTask("t");
    program(sys, 0, function* () {
      yield 100;
      yield* k.smpCallFunctionSingleAsync(1, csd);
      yield* k.ttwuQueueWakelist(2, task);
      yield 10_000;
    });
    expect(sys.run().status).toBe("completed");
    const sites = sys.machine.trace.records
      .filter((r) => r.name === "csd_queue_cpu")
      .map((r) => [r.fields.cpu, r.fields.callsite]);
    expect(sites).toEqual([
      [1, "generic_exec_single"],
      [2, "ttwu_queue_wakelist"],
    ]);
  });

  it("a call queued at time 0 gets its latency sample like any other", () => {
    const sys = testSystem(2);
    const k = sys.kernel;
    program(sys, 0, function* () {
      yield* k.smpCallFunctionSingle(1, () => undefined, null, true);
    });
    expect(sys.run().status).toBe("completed");
    expect(k.stats.latency.count).toBe(1);
  });

  it("x86's single-call vector warns 'IPI on offline CPU' like the call-function vector", () => {
    const sys = testSystem(3, { arch: x86 });
    ipiAfterOffline(sys);
    sys.run();
    expect(sys.kernel.warnings.records.map((w) => w.message)).toContain("IPI on offline CPU 2");
  });
});

describe("what a warning and a stuck-csd report say", () => {
  it("a splat names the task (PID 1000+cpu for a program, 0 for the idle task) and starts with the WARN text; the trace records it", () => {
    const sys = testSystem(3);
    const k = sys.kernel;
    const anon = k.initCsd(
      (
        () => () =>
          undefined
      )(), // a function without a name
      null,
    );
    program(sys, 2, function* () {
      yield 100;
      k.csdUnlock(anon);
    });
    expect(sys.run().status).toBe("completed");
    const [w] = k.warnings.records;
    expect(w.message).toBe(`csd_unlock of csd#${anon.id} (anonymous) that is not locked`);
    expect(w.kernelText).toBe("WARNING: CPU: 2 PID: 1002 at kernel/smp.c:472 csd_unlock");
    const rec = sys.machine.trace.records.find((r) => r.name === "smpcall_warning");
    expect(rec?.cpu).toBe(2);
    expect(rec?.fields).toEqual({ site: "csd_unlock:not-locked", message: w.message });
  });

  it("a WARN with a format prints its text on the line before the splat (IPI on offline CPU, from the idle task)", () => {
    const sys = testSystem(3);
    ipiAfterOffline(sys);
    sys.run();
    const w = sys.kernel.warnings.records.find((r) => r.site === "flush:offline");
    expect((w?.kernelText ?? "").split("\n")).toEqual([
      "IPI on offline CPU 2",
      expect.stringMatching(
        /^WARNING: CPU: 2 PID: (0|1002) at kernel\/smp\.c:597 __flush_smp_call_function_queue$/,
      ),
    ]);
  });

  it("the stuck-csd problem says whether the target's interrupts are off and what it is doing", () => {
    const sys = testSystem(2, { csdLockTimeoutMs: 1 });
    irqsOffFor(sys, 1, 3_000_000);
    program(sys, 0, function* () {
      yield* sys.kernel.smpCallFunctionSingle(1, function blocked_cb() {}, null, true);
    });
    const out = sys.run();
    expect(out.status).toBe("completed");
    const p = out.problems.find((x) => x.kind === "stuck-csd");
    expect(p?.message).toMatch(
      /^csd: Detected non-responsive CSD lock \(#1\) on CPU#0, waiting \d+ ns for CPU#1 blocked_cb; target irqs off, unresponsive \((running|idle)\)$/,
    );
  });
});

describe("queue flushes are reused", () => {
  it("a flush object goes back for reuse when it finishes: a second broadcast allocates none, and every CPU still runs each callback once", () => {
    const sys = testSystem(8);
    const ran: number[] = [];
    const note = (_: unknown, cpu: number): void => void ran.push(cpu);
    let afterFirst = -1;
    program(sys, 0, function* () {
      yield 100;
      yield* sys.kernel.smpCallFunction(note, null, true);
      afterFirst = sys.kernel.idleQueueFlushes;
      // A callback written as code (its flush delegates to it) on every target, then a plain one again.
      yield* sys.kernel.smpCallFunction(
        function* (_: unknown, cpu: number): CpuCode<void> {
          yield 50;
          ran.push(cpu + 100);
        },
        null,
        true,
      );
      yield* sys.kernel.smpCallFunction(note, null, true);
    });
    expect(sys.run().status).toBe("completed");
    expect(afterFirst).toBeGreaterThanOrEqual(1);
    expect(afterFirst).toBeLessThanOrEqual(7);
    expect(sys.kernel.idleQueueFlushes).toBe(afterFirst);
    const others = [1, 2, 3, 4, 5, 6, 7];
    expect(ran.filter((c) => c < 100).sort()).toEqual([...others, ...others].sort());
    expect(
      ran
        .filter((c) => c >= 100)
        .map((c) => c - 100)
        .sort(),
    ).toEqual(others);
    expect(sys.kernel.stats.flushesIrq).toBe(21);
  });
});
