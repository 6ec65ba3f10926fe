import { describe, expect, it } from "@jest/globals";
import { descriptor as generic } from "@smpcall/arch-generic";
import {
  CpuMask,
  DEFAULT_KERNEL_PROFILE,
  InvalidArgumentError,
  KERNEL_PROFILE_NAMES,
  createSmpSystem,
  decodeSchedule,
  ftraceBitmask,
  getPolicy,
  getScenario,
  scheduleChecksum,
  scheduleString,
  toFtraceText,
  type CpuCode,
  type KernelProfileName,
  type SmpSystem,
} from "@smpcall/core";
import { ipiAfterOffline, irqsOffFor, program, testSystem } from "./helpers";

/** Rows of kernel-smp.md §9b, each checked under both profiles. */
describe.each(KERNEL_PROFILE_NAMES.map((k) => [k]))("kernel profile %s (kernel-smp.md 9b)", (kernel) => {
  const is61 = kernel === "6.1";

  it(`cond_func(self) is asked ${is61 ? "after the remote IPIs were sent" : "before the remote loop"}`, () => {
    const sys = testSystem(4, { kernel });
    const asked: { cpu: number; ipisSentBefore: number }[] = [];
    const st = sys.kernel.stats;
    function cond(cpu: number): boolean {
      asked.push({ cpu, ipisSentBefore: st.ipisSingle + st.ipisMask });
      return true;
    }
    program(sys, 0, function* () {
      yield* sys.kernel.onEachCpuCondMask(cond, () => undefined, null, true, CpuMask.of(4, [0, 1, 2, 3]));
    });
    expect(sys.run().status).toBe("completed");
    const self = asked.findIndex((a) => a.cpu === 0);
    expect(asked.map((a) => a.cpu).sort()).toEqual([0, 1, 2, 3]);
    if (is61) {
      expect(self).toBe(3);
      expect(asked[self].ipisSentBefore).toBe(1);
    } else {
      expect(self).toBe(0);
      expect(asked[self].ipisSentBefore).toBe(0);
    }
  });

  it(`a CPU whose cond_func is false is ${is61 ? "kept in the mask and waited on" : "cleared from the mask, not waited on"}`, () => {
    const sys = testSystem(3, { kernel });
    // CPU 1 keeps interrupts off for 50 us, so the first (async) call's csd to it stays locked.
    irqsOffFor(sys, 1, 50_000);
    let returnedAt = -1;
    program(sys, 0, function* () {
      yield 100;
      yield* sys.kernel.smpCallFunctionMany(CpuMask.of(3, [1]), () => undefined, null, false);
      // cond_func false for CPU 1: nothing is queued there.
      yield* sys.kernel.onEachCpuCond(
        (cpu) => cpu !== 1,
        () => undefined,
        null,
        true,
      );
      returnedAt = sys.machine.now;
    });
    expect(sys.run().status).toBe("completed");
    expect(sys.kernel.stats.csdsQueued).toBe(2);
    if (is61) expect(returnedAt).toBeGreaterThanOrEqual(50_000);
    else expect(returnedAt).toBeLessThan(20_000);
  });

  it("a waiting call whose cond_func is false for a CPU never called before, or whose csd is free, waits only for its own callbacks", () => {
    const sys = testSystem(4, { kernel });
    let returnedAt = -1;
    const ran: number[] = [];
    program(sys, 0, function* () {
      yield 100;
      yield* sys.kernel.smpCallFunctionSingle(1, () => undefined, null, true); // CPU 0's csd to 1: used, free
      yield* sys.kernel.onEachCpuCond(
        (cpu) => cpu !== 1 && cpu !== 3, // CPU 3: never called, no csd yet
        (_: unknown, cpu: number) => void ran.push(cpu),
        null,
        true,
      );
      returnedAt = sys.machine.now;
    });
    expect(sys.run().status).toBe("completed");
    expect(ran.sort()).toEqual([0, 2]);
    expect(returnedAt).toBeLessThan(20_000);
  });

  it("a many-call that does not wait leaves nothing for a later call's wait (cond_func false on its busy target)", () => {
    const sys = testSystem(3, { kernel });
    irqsOffFor(sys, 1, 50_000);
    irqsOffFor(sys, 2, 100_000);
    let returnedAt = -1;
    program(sys, 0, function* () {
      yield 100;
      yield* sys.kernel.smpCallFunctionMany(CpuMask.of(3, [1]), () => undefined, null, false);
      yield* sys.kernel.onEachCpuCond(
        (cpu) => cpu !== 1,
        () => undefined,
        null,
        false,
      );
      // Waits for CPU 2 (interrupts off until 100 us), whatever happens to CPU 1's csd at 50 us.
      yield* sys.kernel.smpCallFunctionMany(CpuMask.of(3, [2]), () => undefined, null, true);
      returnedAt = sys.machine.now;
    });
    expect(sys.run().status).toBe("completed");
    expect(returnedAt).toBeGreaterThanOrEqual(100_000);
  });

  it("_many_cond with interrupts disabled: only a lockdep assertion (silent without lockdep)", () => {
    for (const lockdep of [false, true]) {
      const sys = testSystem(3, { kernel, lockdep });
      program(sys, 0, function* () {
        sys.machine.localIrqDisable();
        yield* sys.kernel.smpCallFunctionMany(CpuMask.of(3, [1, 2]), () => undefined, null, false);
        sys.machine.localIrqEnable();
      });
      sys.run();
      const w = sys.kernel.warnings.records.filter(
        (r) => r.site === "smp_call_function_many_cond:irqs-disabled",
      );
      expect(w.length).toBe(lockdep ? 1 : 0);
      if (lockdep) {
        expect(w[0].location).toBe(is61 ? "kernel/smp.c:915" : "kernel/smp.c");
        expect(w[0].kernelText).toContain("smp_call_function_many_cond");
      }
    }
  });

  it("smp_call_function_single with interrupts disabled WARNs, with the profile's source location", () => {
    const sys = testSystem(2, { kernel });
    program(sys, 0, function* () {
      sys.machine.localIrqDisable();
      yield* sys.kernel.smpCallFunctionSingle(1, () => undefined, null, false);
      sys.machine.localIrqEnable();
    });
    sys.run();
    const w = sys.kernel.warnings.records.find((r) => r.site === "smp_call_function_single:irqs-disabled");
    expect(w).toBeDefined();
    const at = is61 ? "kernel/smp.c:760" : "kernel/smp.c";
    expect(w!.location).toBe(at);
    expect(w!.kernelText).toBe(`WARNING: CPU: 0 PID: 1000 at ${at} smp_call_function_single`);
  });

  it("the not-in-task WARN fires in both entry points, wait or not", () => {
    const sys = testSystem(4, { kernel });
    program(sys, 0, function* () {
      yield* sys.kernel.smpCallFunctionSingle(
        1,
        function from_irq(): CpuCode<void> {
          return (function* () {
            yield* sys.kernel.smpCallFunctionMany(CpuMask.of(4, [3]), () => undefined, null, false);
            yield* sys.kernel.smpCallFunctionSingle(2, () => undefined, null, false);
          })();
        },
        null,
        true,
      );
    });
    sys.run();
    const bySite = new Map(sys.kernel.warnings.records.map((r) => [r.site, r]));
    const many = bySite.get("smp_call_function_many_cond:not-in-task");
    const single = bySite.get("smp_call_function_single:not-in-task");
    expect(many?.cpu).toBe(1);
    expect(single?.cpu).toBe(1);
    expect(many!.location).toBe(is61 ? "kernel/smp.c:923" : "kernel/smp.c");
    expect(single!.location).toBe(is61 ? "kernel/smp.c:769" : "kernel/smp.c");
    expect(many!.kernelText).toMatch(/ at kernel\/smp\.c(:923)? smp_call_function_many_cond$/);
    // PID of CPU 1's task: the callback interrupted CPU 1's idle task.
    expect(single!.kernelText).toMatch(
      /^WARNING: CPU: 1 PID: 0 at kernel\/smp\.c(:769)? smp_call_function_single$/,
    );
  });

  it(`the watchdog reports ${is61 ? "every timeout" : "at a growing interval"}`, () => {
    // 8 CPUs online: mainline stretches the interval by (ilog2(8) / 2 + 1) = 2 after the first report.
    const sys = testSystem(8, { kernel, csdLockTimeoutMs: 1 });
    program(sys, 1, function* () {
      sys.machine.localIrqDisable();
      yield 40_500_000;
      sys.machine.localIrqEnable();
      yield 10;
    });
    program(sys, 0, function* () {
      yield* sys.kernel.smpCallFunctionSingle(1, function held_off() {}, null, true);
    });
    expect(sys.run().status).toBe("completed");
    const [r] = sys.kernel.stuckCsds;
    // 6.1: at 1, 2, ..., 40 ms; mainline: at 1, 5, 11, 19 and 29 ms.
    expect(r.reports).toBe(is61 ? 40 : 5);
    expect(r.unstuck).toBe(true);
    const waited = r.lines
      .filter((l) => l.startsWith("csd: ") && l.includes("non-responsive"))
      .map((l) => Math.round(Number(/waiting (\d+) ns/.exec(l)![1]) / 1e6));
    expect(waited).toEqual(is61 ? Array.from({ length: 40 }, (_, i) => i + 1) : [1, 5, 11, 19, 29]);
  });

  it(`the ftrace export holds ${is61 ? "no csd_* or ipi_send_* events (6.1 has none)" : "kernel/smp.c's csd_* and ipi_send_* events"}`, () => {
    const sys = testSystem(4, { kernel });
    // The targets run programs (not idle, so not polling): every call needs an IPI.
    for (const cpu of [1, 2, 3])
      program(sys, cpu, function* () {
        yield 100_000;
      });
    program(sys, 0, function* () {
      yield* sys.kernel.smpCallFunctionMany(CpuMask.of(4, [1, 2, 3]), function many_fn() {}, null, true);
      yield* sys.kernel.smpCallFunctionSingle(2, function one_fn() {}, null, true);
    });
    sys.run();
    // The sink keeps smpcall's view (the Chrome trace and the HTML report draw from it) ...
    expect(sys.trace.count("csd_function_entry")).toBe(4);
    // ... the export keeps what this kernel has, on an arch without IPI tracepoints here.
    const text = toFtraceText(sys.trace.records, { cpus: 4, kernel, archTracepoints: [] });
    const events = new Set([...text.matchAll(/^ .*?: ([a-z_]+): /gm)].map((m) => m[1]));
    if (is61) expect([...events]).toEqual([]);
    else
      expect([...events].sort()).toEqual([
        "csd_function_entry",
        "csd_function_exit",
        "csd_queue_cpu",
        "ipi_send_cpu",
        "ipi_send_cpumask",
      ]);
    expect(text).toMatch(new RegExp(`^# smpcall: 4 CPUs, kernel ${kernel.replace(".", "\\.")}$`, "m"));
    if (!is61) {
      expect(text).toContain(
        "ipi_send_cpumask: cpumask=00000000,0000000e callsite=smp_call_function_many callback=generic_smp_call_function_single_interrupt\n",
      );
      expect(text).toMatch(/^ {7}smpcall\/0-1000 {4}\[000\] \.\.\.\.\. +\d+\.\d{6}: csd_queue_cpu: cpu=1 /m);
    }
  });

  it(`the idle-polling check lives in ${is61 ? "send_call_function_single_ipi" : "call_function_single_prep_ipi"}: ${is61 ? "no ipi_send_cpu either way" : "ipi_send_cpu only for an IPI sent"}`, () => {
    expect(sys61OrMainline(kernel).profile.pollingCheck).toMatch(
      is61 ? /^send_call_function_single_ipi \(kernel\/sched\/core\.c\)$/ : /^call_function_single_prep_ipi /,
    );
    // CPU 1 polls in idle; CPU 2 runs a program (not idle, not polling).
    const sys = testSystem(3, { kernel, idle: "poll" });
    program(sys, 2, function* () {
      yield 50_000;
    });
    program(sys, 0, function* () {
      yield 1000;
      yield* sys.kernel.smpCallFunctionSingle(1, function to_polling() {}, null, true);
      yield* sys.kernel.smpCallFunctionSingle(2, function to_busy() {}, null, true);
    });
    expect(sys.run().status).toBe("completed");
    expect(sys.kernel.stats.idlePollKicks).toBe(1);
    expect(sys.kernel.stats.ipisSingle).toBe(1);
    const text = toFtraceText(sys.trace.records, { cpus: 3, kernel, archTracepoints: [] });
    expect(text).toMatch(/: sched_wake_idle_without_ipi: cpu=1$/m);
    const sends = [...text.matchAll(/: ipi_send_cpu: (.*)$/gm)].map((m) => m[1]);
    expect(sends).toEqual(
      is61 ? [] : ["cpu=2 callsite=generic_exec_single callback=generic_smp_call_function_single_interrupt"],
    );
  });

  it(`a many-call's csd_queue_cpu and ipi_send_* name ${is61 ? "smp_call_function_many_cond (smpcall's records; 6.1 has no such tracepoints)" : "the function that called _many_cond (its return address)"}`, () => {
    const sys = testSystem(4, { kernel });
    for (const cpu of [1, 2, 3])
      program(sys, cpu, function* () {
        yield 100_000;
      });
    program(sys, 0, function* () {
      sys.machine.preemptDisable();
      yield* sys.kernel.smpCallFunctionMany(CpuMask.of(4, [1, 2]), function many_fn() {}, null, true);
      sys.machine.preemptEnable();
      yield* sys.kernel.smpCallFunction(function all_fn() {}, null, true);
      yield* sys.kernel.onEachCpuMask(CpuMask.of(4, [0, 3]), function mask_fn() {}, null, true);
    });
    expect(sys.run().status).toBe("completed");
    const sites = (name: string) =>
      sys.trace.records.filter((r) => r.name === name).map((r) => String(r.fields.callsite));
    const [many, all, each] = is61
      ? ["smp_call_function_many_cond", "smp_call_function_many_cond", "smp_call_function_many_cond"]
      : ["smp_call_function_many", "smp_call_function", "on_each_cpu_cond_mask"];
    expect(sites("csd_queue_cpu")).toEqual([many, many, all, all, all, each]);
    // Two and three targets: mask sends; on_each_cpu_mask's one remote target: the single send.
    expect(sites("ipi_send_cpumask")).toEqual([many, all]);
    expect(sites("ipi_send_cpu")).toEqual([each]);
  });

  it(`a single call's csd_queue_cpu and ipi_send_cpu name ${is61 ? "the API and generic_exec_single (smpcall's records)" : "one callsite, the caller of __smp_call_single_queue"}`, () => {
    const sys = testSystem(4, { kernel });
    // Busy targets (not idle, so not polling) until after the last call: every call needs an IPI.
    for (const cpu of [1, 2, 3])
      program(sys, cpu, function* () {
        yield 200_000;
      });
    const work = sys.kernel.initIrqWork(function work_fn() {});
    const task = sys.kernel.initTask("wakee");
    program(sys, 0, function* () {
      yield* sys.kernel.smpCallFunctionSingle(1, function one_fn() {}, null, false);
      yield* sys.kernel.irqWorkQueueOn(work, 2);
      yield* sys.kernel.ttwuQueueWakelist(3, task);
    });
    expect(sys.run().status).toBe("completed");
    const pairs = sys.trace.records
      .filter((r) => r.name === "csd_queue_cpu" || r.name === "ipi_send_cpu")
      .map((r) => `${r.name} ${String(r.fields.cpu)} ${String(r.fields.callsite)}`);
    expect(pairs).toEqual(
      is61
        ? [
            "csd_queue_cpu 1 smp_call_function_single",
            "ipi_send_cpu 1 generic_exec_single",
            "csd_queue_cpu 2 irq_work_queue_on",
            "ipi_send_cpu 2 generic_exec_single",
            "csd_queue_cpu 3 ttwu_queue_wakelist",
            "ipi_send_cpu 3 generic_exec_single",
          ]
        : [
            "csd_queue_cpu 1 generic_exec_single",
            "ipi_send_cpu 1 generic_exec_single",
            "csd_queue_cpu 2 irq_work_queue_on",
            "ipi_send_cpu 2 irq_work_queue_on",
            "csd_queue_cpu 3 ttwu_queue_wakelist",
            "ipi_send_cpu 3 ttwu_queue_wakelist",
          ],
    );
  });

  it(`a call to the calling CPU itself is traced ${is61 ? "with its csd (smpcall's records)" : "with a NULL csd (csd_do_func(func, info, NULL))"}`, () => {
    const sys = testSystem(2, { kernel });
    let csdHex = "";
    program(sys, 0, function* () {
      yield* sys.kernel.smpCallFunctionSingle(0, function self_fn() {}, null, false);
      csdHex = sys.trace.records.find((r) => r.name === "csd_function_entry")!.fields.csd as string;
    });
    expect(sys.run().status).toBe("completed");
    const text = toFtraceText(sys.trace.records, { cpus: 2, kernel: "mainline", archTracepoints: [] });
    if (is61) expect(csdHex).toMatch(/^[0-9a-f]{16}$/);
    else expect(csdHex).toBe("local");
    expect(text.includes(": csd_function_entry: func=self_fn, csd=0000000000000000\n")).toBe(!is61);
    expect(text.includes(": csd_function_exit: func=self_fn, csd=0000000000000000\n")).toBe(!is61);
  });

  it(`the flush's wake-up batch is ${is61 ? "called bare (no csd_function_* records)" : "traced as csd_function_entry/exit of sched_ttwu_pending with the first entry"}`, () => {
    const sys = testSystem(3, { kernel });
    program(sys, 2, function* () {
      yield 100_000;
    });
    const a = sys.kernel.initTask("a");
    const b = sys.kernel.initTask("b");
    program(sys, 0, function* () {
      sys.machine.localIrqDisable();
      yield* sys.kernel.ttwuQueueWakelist(2, a);
      yield* sys.kernel.ttwuQueueWakelist(2, b);
      sys.machine.localIrqEnable();
    });
    expect(sys.run().status).toBe("completed");
    expect(sys.kernel.stats.ttwuBatches).toBe(1);
    const fn = sys.trace.records
      .filter((r) => r.name.startsWith("csd_function_"))
      .map((r) => `${r.cpu} ${r.name} ${String(r.fields.func)} ${String(r.fields.csd)}`);
    expect(fn).toEqual(
      is61
        ? []
        : [
            `2 csd_function_entry sched_ttwu_pending ${a.wakeEntry.hex}`,
            `2 csd_function_exit sched_ttwu_pending ${a.wakeEntry.hex}`,
          ],
    );
  });

  it("irq_disable/irq_enable are exported only from a kernel with irq-flags tracing (lockdep), with caller and parent", () => {
    const sys = testSystem(2, { kernel, lockdep: true });
    program(sys, 0, function* () {
      yield* sys.kernel.smpCallFunctionSingle(0, function self_fn() {}, null, true);
    });
    sys.run();
    const meta = { cpus: 2, kernel, archTracepoints: [] };
    expect(toFtraceText(sys.trace.records, meta)).not.toContain("irq_disable");
    const text = toFtraceText(sys.trace.records, { ...meta, irqFlagsTracepoints: true });
    expect(text).toContain(": irq_disable: caller=generic_exec_single parent=smp_call_function_single\n");
    expect(text).toContain(": irq_enable: caller=generic_exec_single parent=smp_call_function_single\n");
  });

  it("the explorer's schedule string carries the profile only when it is not the default", () => {
    const s = scheduleString(
      {
        scenario: getScenario("seed-2008"),
        policy: getPolicy("naive"),
        arch: generic,
        kernel: kernel,
        cpus: 2,
        calls: 1,
        seed: 1,
        maxSteps: 20_000,
      },
      [0, 1],
    );
    expect(s.includes(",kernel=")).toBe(kernel !== DEFAULT_KERNEL_PROFILE);
    expect(decodeSchedule(s).kernel).toBe(kernel === DEFAULT_KERNEL_PROFILE ? undefined : kernel);
  });
});

describe("kernel profile option", () => {
  it("defaults to 6.1 and refuses an unknown profile with the choices", () => {
    expect(DEFAULT_KERNEL_PROFILE).toBe("6.1");
    expect(testSystem(2).kernel.profile.name).toBe("6.1");
    expect(() => createSmpSystem({ cpus: 2, arch: generic, kernel: "5.10" as KernelProfileName })).toThrow(
      InvalidArgumentError,
    );
    expect(() => createSmpSystem({ cpus: 2, arch: generic, kernel: "5.10" as KernelProfileName })).toThrow(
      /kernel must be one of "6\.1", "mainline"/,
    );
    expect(() => createSmpSystem({ cpus: 2, arch: generic, lockdep: "yes" as unknown as boolean })).toThrow(
      /lockdep/,
    );
  });

  it("a schedule string naming an unknown profile is refused at the field", () => {
    const good = scheduleString(
      {
        scenario: getScenario("seed-2008"),
        policy: getPolicy("naive"),
        arch: generic,
        kernel: "mainline",
        cpus: 2,
        calls: 1,
        seed: 1,
        maxSteps: 20_000,
      },
      [0],
    );
    // An old string without a kernel field still decodes (as the default profile).
    const old = "smp2,scenario=seed-2008,policy=naive,arch=generic,cpus=2,calls=1,seed=1,n=1,choices=0";
    expect(decodeSchedule(`${old},sum=${scheduleChecksum(old)}`).kernel).toBeUndefined();
    const bad = good.replace("kernel=mainline", "kernel=4.19").replace(/,sum=.*$/, "");
    expect(() => decodeSchedule(`${bad},sum=${scheduleChecksum(bad)}`)).toThrow(/field "kernel" is "4\.19"/);
  });
});

/** The kernel of a 2-CPU system under `kernel`. */
function sys61OrMainline(kernel: KernelProfileName) {
  return testSystem(2, { kernel }).kernel;
}

describe("ftrace text as the kernel writes it", () => {
  it("prints CPU sets as hex bitmasks in 32-bit groups over whole 64-bit words", () => {
    expect(ftraceBitmask([1, 2, 3], 8)).toBe("00000000,0000000e");
    expect(ftraceBitmask([0, 64], 65)).toBe("00000000,00000001,00000000,00000001");
    expect(ftraceBitmask([33], 64)).toBe("00000002,00000000");
  });

  it("ipi_raise names the target mask and the reason; task-pid is %16s-%-7d", () => {
    const sys = testSystem(2, { kernel: "6.1" });
    program(sys, 0, function* () {
      yield* sys.kernel.smpCallFunctionSingle(1, function raised() {}, null, true);
    });
    sys.run();
    const text = toFtraceText(sys.trace.records, {
      cpus: 2,
      kernel: "6.1",
      archTracepoints: generic.tracepoints,
    });
    const raise = text.split("\n").find((l) => l.includes(": ipi_raise: "))!;
    expect(raise).toMatch(
      /^ {7}smpcall\/0-1000 {4}\[000\] \.\.\.\.\. +\d+\.\d{6}: ipi_raise: target_mask=00000000,00000002 \(.+\)$/,
    );
    expect(text).toMatch(/^ {10}<idle>-0 {7}\[001\] d\.h1\. +\d+\.\d{6}: ipi_entry: \(.+\)$/m);
  });
});

describe("warning splats name the site as each release has it", () => {
  /** Where each warning is in 6.1 (line numbers checked in Debian's linux-source-6.1) and in mainline (no line: it moves). */
  const SITES: Record<KernelProfileName, Record<string, string>> = {
    "6.1": {
      "csd_unlock:not-locked": "kernel/smp.c:472 csd_unlock",
      "flush:offline": "kernel/smp.c:597 __flush_smp_call_function_queue",
      "smp_call_function_many_cond:preemptible": "kernel/smp.c:905 smp_call_function_many_cond",
      "irq_work_queue_on:offline": "kernel/irq_work.c:134 irq_work_queue_on",
    },
    mainline: {
      "csd_unlock:not-locked": "kernel/smp.c csd_unlock",
      "flush:offline": "kernel/smp.c __flush_smp_call_function_queue",
      "smp_call_function_many_cond:preemptible": "kernel/smp.c smp_call_function_many_cond",
      "irq_work_queue_on:offline": "kernel/irq_work.c irq_work_queue_on",
    },
  };

  /** One system per warning (a hotplug request and a hand-made offline window do not mix). */
  const TRIGGERS: Record<string, (sys: SmpSystem) => void> = {
    "csd_unlock:not-locked": (sys) => {
      const unqueued = sys.kernel.initCsd(function never_queued() {}, null);
      program(sys, 1, function* () {
        yield 100;
        sys.kernel.csdUnlock(unqueued);
      });
    },
    "flush:offline": (sys) => ipiAfterOffline(sys),
    "smp_call_function_many_cond:preemptible": (sys) => {
      program(sys, 0, function* () {
        yield* sys.kernel.smpCallFunctionMany(sys.machine.onlineMask, () => undefined, null, true);
      });
    },
    "irq_work_queue_on:offline": (sys) => {
      const work = sys.kernel.initIrqWork(() => undefined);
      sys.kernel.cpuDown(2);
      program(sys, 0, function* () {
        yield 100;
        yield* sys.kernel.irqWorkQueueOn(work, 2);
      });
    },
  };

  it.each(KERNEL_PROFILE_NAMES.flatMap((k) => Object.keys(TRIGGERS).map((site) => [k, site])))(
    "%s: %s",
    (kernel, site) => {
      const sys = testSystem(3, { kernel: kernel as KernelProfileName, lockdep: true });
      TRIGGERS[site](sys);
      sys.run();
      const text = sys.kernel.warnings.records.find((r) => r.site === site)?.kernelText ?? "(no warning)";
      expect(text.slice(text.indexOf(" at ") + 4)).toBe(SITES[kernel as KernelProfileName][site]);
    },
  );
});
