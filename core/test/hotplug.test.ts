import { describe, expect, it } from "@jest/globals";
import { descriptor as generic } from "@smpcall/arch-generic";
import { descriptor as x86 } from "@smpcall/arch-x86";
import { CpuMask, EBUSY, EINVAL, type CpuCode } from "@smpcall/core";
import { program, recorder, testSystem, type Run } from "./helpers";

describe("hotplug through stop_machine, and preemption (kernel-smp.md section 7)", () => {
  it("a CPU taken down while a sender is between building its mask and queueing goes down only after the sender is done: nothing stranded", () => {
    // Slow per-target setup: CPU 0's broadcast spends ~10 us per target, so CPU 7 is still to
    // be queued when CPU 1 asks for it to go down.
    const sys = testSystem(8, { cost: { perTargetSetupNs: 10_000 } });
    const log: Run[] = [];
    let maskBuiltAt = -1;
    program(sys, 0, function* () {
      yield 1000;
      maskBuiltAt = sys.machine.now;
      yield* sys.kernel.smpCallFunction(recorder(sys, log), "bcast", true);
    });
    let downAskedAt = -1;
    program(sys, 1, function* () {
      yield 15_000;
      downAskedAt = sys.machine.now;
      expect(sys.kernel.cpuDown(7)).toBe(0);
      yield 0;
    });
    const out = sys.run();
    expect(out.status).toBe("completed");
    expect(out.problems).toEqual([]);
    expect(downAskedAt).toBeGreaterThan(maskBuiltAt);
    const queued7 = sys.trace.named("csd_queue_cpu").find((r) => r.fields.cpu === 7)!;
    expect(queued7.ts).toBeGreaterThan(downAskedAt);
    expect(log.map((r) => r.cpu).sort()).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(sys.machine.cpus[7]).toMatchObject({ online: false, dead: true });
    expect(sys.kernel.warnings.records).toHaveLength(0);
  });

  it("a CPU asked down while inside an interrupt handler dies when it leaves it; brought up again, it serves calls", () => {
    const sys = testSystem(4);
    let inHandler = false;
    const slow = sys.kernel.initCsd(function long_cb(): CpuCode<void> {
      return (function* () {
        inHandler = true;
        yield 10_000;
        inHandler = false;
      })();
    }, null);
    const log: Run[] = [];
    let onlineWhileDown = true;
    let ret = -1;
    program(sys, 0, function* () {
      yield 5000;
      yield* sys.kernel.smpCallFunctionSingleAsync(2, slow);
    });
    program(sys, 1, function* () {
      while (!inHandler) yield 100;
      expect(sys.machine.cpus[2].hardirqDepth).toBe(1);
      expect(sys.kernel.cpuDown(2)).toBe(0);
      yield 0;
      yield 30_000;
      onlineWhileDown = sys.machine.cpus[2].online || !sys.machine.cpus[2].dead;
      expect(sys.kernel.cpuUp(2)).toBe(0);
      yield 1000;
      ret = yield* sys.kernel.smpCallFunctionSingle(2, recorder(sys, log), "after-up", true);
    });
    const out = sys.run();
    expect(out.status).toBe("completed");
    expect(onlineWhileDown).toBe(false);
    expect(ret).toBe(0);
    expect(log).toEqual([expect.objectContaining({ cpu: 2, info: "after-up" })]);
    expect(sys.machine.cpus[2]).toMatchObject({ online: true, dead: false });
  });

  it("stop_machine waits for a CPU inside get_cpu/put_cpu (preemption disabled)", () => {
    const sys = testSystem(4);
    const seen: boolean[] = [];
    program(sys, 0, function* () {
      sys.kernel.getCpu();
      yield 10_000;
      seen.push(sys.machine.cpus[3].online);
      yield 10_000;
      seen.push(sys.machine.cpus[3].online);
      sys.kernel.putCpu();
      yield 0;
      seen.push(sys.machine.cpus[3].online);
    });
    program(sys, 1, function* () {
      yield 1000;
      expect(sys.kernel.cpuDown(3)).toBe(0);
      yield 0;
    });
    expect(sys.run().status).toBe("completed");
    expect(seen).toEqual([true, true, false]);
    expect(sys.machine.cpus[0].preemptCount).toBe(0);
  });

  it("the kernel API runs with preemption disabled where the kernel does, and leaves it as it found it", () => {
    const sys = testSystem(4);
    const counts: number[] = [];
    function probe_fn(): void {}
    program(sys, 0, function* () {
      const c = sys.machine.cpus[0];
      const inside = (): void => void counts.push(c.preemptCount);
      yield* sys.kernel.smpCallFunctionSingle(0, inside, null, true);
      yield* sys.kernel.onEachCpu(
        (_: unknown, cpu: number) => (cpu === 0 ? inside() : probe_fn()),
        null,
        true,
      );
      yield* sys.kernel.smpCallFunctionAny(sys.machine.onlineMask, inside, null, true);
      counts.push(c.preemptCount);
    });
    sys.run();
    // get_cpu in the single call; preempt_disable in on_each_cpu; get_cpu twice in _any (it calls _single).
    expect(counts).toEqual([1, 1, 2, 0]);
  });

  it("hotplug requests are checked against what they will leave online, and served in order", () => {
    const sys = testSystem(3);
    const rets: number[] = [];
    program(sys, 0, function* () {
      yield 1000;
      rets.push(sys.kernel.cpuDown(2)); // 0
      rets.push(sys.kernel.cpuDown(2)); // already going down
      rets.push(sys.kernel.cpuUp(1)); // online
      rets.push(sys.kernel.cpuDown(1)); // 0
      rets.push(sys.kernel.cpuDown(0)); // would be the last
      rets.push(sys.kernel.cpuUp(2)); // 0, after it is down
      yield 0;
      yield 1000;
    });
    expect(sys.run().status).toBe("completed");
    expect(rets).toEqual([0, -EINVAL, -EINVAL, 0, -EBUSY, 0]);
    expect(sys.machine.cpus.map((c) => c.online)).toEqual([true, false, true]);
  });

  it("asking for a CPU to go down does not cut the asking CPU's step short; it is stopped at the end of it", () => {
    const sys = testSystem(4);
    const times: number[] = [];
    program(sys, 1, function* () {
      yield 1000;
      times.push(sys.machine.now);
      expect(sys.kernel.cpuDown(3)).toBe(0);
      yield 50_000;
      times.push(sys.machine.now);
    });
    expect(sys.run().status).toBe("completed");
    expect(times[1] - times[0]).toBeGreaterThanOrEqual(50_000);
    expect(sys.machine.cpus[3].dead).toBe(true);
  });

  it("preempt_enable without preempt_disable stops the run naming the CPU", () => {
    const sys = testSystem(2);
    program(sys, 1, function* () {
      sys.kernel.putCpu();
      yield 0;
    });
    expect(() => sys.run()).toThrow(/preempt_enable on CPU 1 without a matching preempt_disable/);
  });

  // The idle task is not preemptible inside its loop: a stop_machine's stopper runs on an idle CPU
  // only once it has left the loop, cleared its polling flag and flushed its queue. Taken over
  // inside the loop, a polling CPU kept its flag, so a call queued to it got no IPI and waited
  // for the stop, which waited for the caller: 5 s until the CSD watchdog's IPI, or for ever.
  it.each(["poll", "mwait"] as const)(
    "idle=%s: a call to a polling CPU while another CPU goes down runs at once (the idle task flushes before the stopper)",
    (idle) => {
      const sys = testSystem(5, { idle });
      const log: Run[] = [];
      program(sys, 0, function* () {
        yield 50;
        yield* sys.kernel.onEachCpuMask(CpuMask.of(5, [1]), recorder(sys, log), "each", true);
      });
      program(sys, 4, function* () {
        yield 50;
        expect(sys.kernel.cpuDown(0)).toBe(0);
        yield 0;
        expect(sys.kernel.cpuUp(0)).toBe(0);
      });
      const out = sys.run();
      expect(out.status).toBe("completed");
      expect(out.problems).toEqual([]);
      expect(sys.kernel.warnings.records).toEqual([]);
      expect(log.map((r) => r.cpu)).toEqual([1]);
      expect(log[0].time).toBeLessThan(1000);
      expect(out.timeNs).toBeLessThan(10_000);
      expect(sys.machine.cpus[0]).toMatchObject({ online: true, dead: false });
    },
  );

  // A halted idle CPU taken over by a stop (or taken down) kept its idle task under the stopper,
  // inside the halt; a need_resched set meanwhile (wake_up_all_idle_cpus' reschedule IPI, taken in
  // the stopper) was never seen, and the next stop waited for it to leave the idle loop: deadlock.
  // The idle task now starts anew after the stopper and when its CPU comes back up.
  it("wake_up_all_idle_cpus while CPUs go down and come back: every stop gathers (the idle task starts anew after the stopper)", () => {
    const sys = testSystem(17, { archOptions: { latencyNs: "0", sendCostNs: "1" } });
    const asked: number[] = [];
    program(sys, 12, function* () {
      yield 50;
      yield* sys.kernel.wakeUpAllIdleCpus();
    });
    program(sys, 0, function* () {
      yield 51;
      for (const cpu of [3, 1]) {
        asked.push(sys.kernel.cpuDown(cpu));
        yield 0;
        asked.push(sys.kernel.cpuUp(cpu));
      }
    });
    const out = sys.run();
    expect(out.problems.map((p) => p.kind)).toEqual([]);
    expect(out.status).toBe("completed");
    expect(asked).toEqual([0, 0, 0, 0]);
    expect(sys.machine.onlineMask.weight()).toBe(17);
    expect(sys.kernel.warnings.records).toEqual([]);
  });

  // Under a weak memory model the idle flags other CPUs read are a word of their own: an
  // interrupt ending an MWAIT sleep cleared the CPU's polling flag but left the word's, so a CPU
  // taken over by a stop after such an interrupt still looked polling: a call to it got no IPI.
  it.each(["tso", "lkmm"] as const)(
    "memory=%s, idle=mwait: after an interrupt woke it, an idle CPU inside a stop still gets its IPI",
    (memory) => {
      const sys = testSystem(5, { idle: "mwait", memory });
      const log: Run[] = [];
      program(sys, 3, function* () {
        yield 50;
        sys.kernel.getCpu();
        // Two targets: 6.1's mask path sends its IPI to a polling CPU too, which wakes CPU 4's MWAIT.
        yield* sys.kernel.smpCallFunctionMany(CpuMask.of(5, [2, 4]), recorder(sys, log), "first", false);
        sys.kernel.putCpu();
        yield 1000;
        // Preemption off from before the stop is asked for: it cannot gather until this call is done.
        sys.kernel.getCpu();
        yield 3000;
        yield* sys.kernel.smpCallFunctionMany(CpuMask.of(5, [4]), recorder(sys, log), "second", true);
        sys.kernel.putCpu();
      });
      program(sys, 0, function* () {
        yield 2000;
        expect(sys.kernel.cpuDown(1)).toBe(0);
        yield 0;
        expect(sys.kernel.cpuUp(1)).toBe(0);
      });
      const out = sys.run();
      expect(out.status).toBe("completed");
      expect(out.problems).toEqual([]);
      expect(sys.kernel.warnings.records).toEqual([]);
      expect(log.map((r) => [r.info, r.cpu])).toEqual([
        ["first", 2],
        ["first", 4],
        ["second", 4],
      ]);
      expect(out.timeNs).toBeLessThan(20_000);
    },
  );
});

describe("bringing a CPU up (6.1's cpu_up)", () => {
  it("its idle task leaves its loop at once and flushes the queue: an irq_work queued while it was dead runs even where the boot reset the IPI (x86)", () => {
    for (const idle of ["halt", "mwait"] as const) {
      const sys = testSystem(3, { arch: x86, idle });
      const k = sys.kernel;
      const ran: [number, boolean, number][] = [];
      const work = k.initIrqWork(function late_work(_: unknown, cpu: number): void {
        const c = sys.machine.cpus[cpu];
        ran.push([cpu, c.online, c.hardirqDepth]);
      });
      expect(k.cpuDown(2)).toBe(0);
      let flushesBefore = -1;
      program(sys, 0, function* () {
        yield 100;
        expect(yield* k.irqWorkQueueOn(work, 2)).toBe(true); // WARNs, queued anyway, need_resched and no IPI (x86 polls)
        yield 10_000;
        flushesBefore = k.stats.flushesIdle;
        expect(k.cpuUp(2)).toBe(0);
        yield 10_000;
      });
      const out = sys.run();
      expect(out.status).toBe("completed");
      expect(out.problems).toEqual([]);
      // Run once, online, from the idle task's flush (not an interrupt: INIT/SIPI cleared the IRR).
      expect(ran).toEqual([[2, true, 0]]);
      expect(k.stats.flushesIdle).toBe(flushesBefore + 1);
      expect(k.warnings.records.map((w) => w.site)).toEqual(["irq_work_queue_on:offline"]);
    }
  });
});

describe("a call queued to a dead CPU (6.1's send_call_function_single_ipi on rq->idle)", () => {
  it("no IPI where the arch has TIF_POLLING_NRFLAG (the idle task died polling: need_resched set instead); the IPI without the flag", () => {
    for (const idlePollingFlag of [true, false]) {
      const sys = testSystem(3, { arch: { ...generic, idlePollingFlag } });
      const k = sys.kernel;
      const ran: number[] = [];
      const work = k.initIrqWork(function dead_work(_: unknown, cpu: number): void {
        ran.push(cpu);
      });
      let ipisBefore = -1;
      let kicksBefore = -1;
      let needReschedWhileDead = false;
      program(sys, 0, function* () {
        yield 100;
        expect(k.cpuDown(2)).toBe(0); // CPU 2 dies in its idle task
        yield 10_000;
        expect(sys.machine.cpus[2].dead).toBe(true);
        ipisBefore = k.stats.ipisSingle;
        kicksBefore = k.stats.idlePollKicks;
        expect(yield* k.irqWorkQueueOn(work, 2)).toBe(true);
        needReschedWhileDead = sys.machine.cpus[2].needResched;
        expect([k.stats.ipisSingle - ipisBefore, k.stats.idlePollKicks - kicksBefore]).toEqual(
          idlePollingFlag ? [0, 1] : [1, 0],
        );
        yield 10_000;
        expect(k.cpuUp(2)).toBe(0);
        yield 10_000;
      });
      const out = sys.run();
      expect(out.status).toBe("completed");
      expect(out.problems).toEqual([]);
      expect(needReschedWhileDead).toBe(idlePollingFlag);
      const kicks = sys.trace.named("sched_wake_idle_without_ipi").filter((r) => r.fields.cpu === 2);
      const sends = sys.trace.named("ipi_send_cpu").filter((r) => r.fields.cpu === 2);
      expect([kicks.length, sends.length]).toEqual(idlePollingFlag ? [1, 0] : [0, 1]);
      expect(ran).toEqual([2]);
    }
  });
});

describe("the preemption assertion of _many_cond", () => {
  it("is a lockdep assertion: silent without lockdep, fires with it for a preemptible caller of smpCallFunctionMany only", () => {
    for (const lockdep of [false, true]) {
      const sys = testSystem(3, { lockdep });
      program(sys, 0, function* () {
        yield* sys.kernel.smpCallFunctionMany(sys.machine.onlineMask, () => undefined, null, true);
        yield* sys.kernel.smpCallFunction(() => undefined, null, true);
        sys.kernel.getCpu();
        yield* sys.kernel.smpCallFunctionMany(sys.machine.onlineMask, () => undefined, null, true);
        sys.kernel.putCpu();
      });
      sys.run();
      const hits = sys.kernel.warnings.records.filter((w) => w.site.endsWith(":preemptible"));
      expect(hits.map((w) => w.count)).toEqual(lockdep ? [1] : []);
      if (lockdep)
        expect(hits[0].kernelText).toBe(
          "WARNING: CPU: 0 PID: 1000 at kernel/smp.c:905 smp_call_function_many_cond",
        );
    }
  });
});

describe("cpu_down and cpu_up refuse CPUs that are not theirs to change", () => {
  it("-EINVAL for a CPU id that is not an integer in range, or already in the state asked for; -EBUSY for the last online CPU", () => {
    const sys = testSystem(3);
    const k = sys.kernel;
    for (const cpu of [-1, 1.5, 3, Number.NaN]) {
      expect([cpu, k.cpuDown(cpu)]).toEqual([cpu, -EINVAL]);
      expect([cpu, k.cpuUp(cpu)]).toEqual([cpu, -EINVAL]);
    }
    expect(k.cpuUp(1)).toBe(-EINVAL); // already online
    expect(k.cpuDown(0)).toBe(0);
    expect(k.cpuDown(0)).toBe(-EINVAL); // already offline
    expect(k.cpuDown(1)).toBe(0);
    expect(k.cpuDown(2)).toBe(-EBUSY);
    expect(k.cpuUp(0)).toBe(0); // CPU 0 comes back like any other
    expect(k.cpuUp(0)).toBe(-EINVAL);
  });
});
