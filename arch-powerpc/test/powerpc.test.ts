import { describe, expect, it } from "@jest/globals";
import {
  ArchOptionError,
  CpuMask,
  InvalidArgumentError,
  createSmpSystem,
  runWorkload,
  type SmpSystem,
  type SystemConfig,
} from "@smpcall/core";
import { callbackRecorder, spawnProgram, type CallbackRun } from "@smpcall/core/testing";
import { descriptor, type MuxedIpi } from "@smpcall/arch-powerpc";

function ppc(
  cpus: number,
  archOptions: Record<string, string> = {},
  extra: Partial<SystemConfig> = {},
): SmpSystem {
  return createSmpSystem({ cpus, seed: 1, arch: descriptor, archOptions, trace: true, ...extra });
}
const muxed = (sys: SmpSystem) => sys.arch as MuxedIpi;
const messagesHandled = (sys: SmpSystem, cpu: number) =>
  sys.trace
    .named("powerpc_ipi_message")
    .filter((r) => r.cpu === cpu)
    .map((r) => r.fields.msg);

/** CPU `cpu` runs with interrupts off for `ns`, then on: IPIs sent meanwhile wait for it. */
function holdIrqsOff(sys: SmpSystem, cpu: number, ns: number): void {
  spawnProgram(sys, cpu, function* () {
    sys.machine.localIrqDisable();
    yield ns;
    sys.machine.localIrqEnable();
    yield 10;
  });
}

describe("arch-powerpc: muxed IPIs", () => {
  it("a call-function and a reschedule sent before the target takes the interrupt arrive in one interrupt, handled in demux order", () => {
    const sys = ppc(16);
    const log: CallbackRun[] = [];
    holdIrqsOff(sys, 9, 20_000);
    spawnProgram(sys, 0, function* () {
      yield 100;
      yield* sys.arch.sendRescheduleIpi(9);
      yield* sys.kernel.smpCallFunctionSingle(9, callbackRecorder(sys, log), "call", false);
    });
    expect(sys.run().status).toBe("completed");
    expect(sys.machine.cpus[9].counters.irqsTaken).toBe(1);
    expect(messagesHandled(sys, 9)).toEqual(["call_function", "reschedule"]);
    expect(log.map((r) => r.cpu)).toEqual([9]);
  });

  it("a second identical message before the demux is absorbed by the word", () => {
    const sys = ppc(16);
    holdIrqsOff(sys, 9, 20_000);
    spawnProgram(sys, 0, function* () {
      yield 100;
      yield* sys.arch.sendRescheduleIpi(9);
      yield* sys.arch.sendRescheduleIpi(9);
      expect(muxed(sys).messageWord(9)).toBe(0b10);
    });
    sys.run();
    expect(sys.arch.statistics()).toMatchObject({
      messagesSent: 2,
      messagesAbsorbed: 1,
      rescheduleMessages: 1,
    });
    expect(sys.machine.cpus[9].counters.irqsTaken).toBe(1);
  });

  const broadcastStats = (sys: SmpSystem) => {
    const log: CallbackRun[] = [];
    spawnProgram(sys, 0, function* () {
      yield* sys.kernel.smpCallFunction(callbackRecorder(sys, log), null, true);
    });
    expect(sys.run().status).toBe("completed");
    expect(log).toHaveLength(sys.machine.nrCpus - 1);
    return sys.arch.statistics();
  };
  const paths = (st: Record<string, number>) => ({
    doorbells: st.doorbells,
    globalDoorbells: st.globalDoorbells,
    msgsndpTraps: st.msgsndpTraps,
    xicsWrites: st.xicsWrites,
    xiveTriggers: st.xiveTriggers,
    hIpiHcalls: st.hIpiHcalls,
  });
  const none = {
    doorbells: 0,
    globalDoorbells: 0,
    msgsndpTraps: 0,
    xicsWrites: 0,
    xiveTriggers: 0,
    hIpiHcalls: 0,
  };

  it("POWER8 powernv: siblings in the sender's core get doorbells, other cores XICS writes: 64 CPUs x 8 threads = 7 + 56", () => {
    const st = broadcastStats(ppc(64, { platform: "powernv-power8", threadsPerCore: "8" }));
    expect(paths(st)).toEqual({ ...none, doorbells: 7, xicsWrites: 56 });
    expect(st).toMatchObject({ doorbellAcks: 7, controllerEois: 56, messagesSent: 63 });
  });

  it("POWER9+ powernv: every IPI is a doorbell (global msgsnd to other cores); XIVE is not used for IPIs", () => {
    const st = broadcastStats(ppc(64, { platform: "powernv-power9", threadsPerCore: "8" }));
    expect(paths(st)).toEqual({ ...none, doorbells: 7, globalDoorbells: 56 });
    expect(st).toMatchObject({ doorbellAcks: 63, controllerEois: 0 });
    // The global doorbell crosses the fabric: sender cost msgsnd, arrival after the global latency.
    const sys = ppc(16, { platform: "powernv-power9", threadsPerCore: "8" }, { cost: { deliveryJitter: 0 } });
    spawnProgram(sys, 0, function* () {
      yield* sys.arch.sendCallFunctionSingleIpi(9);
      yield* sys.arch.sendCallFunctionSingleIpi(1);
    });
    expect(sys.run().status).toBe("completed");
    const entry = (cpu: number) => sys.trace.named("ipi_entry").find((r) => r.cpu === cpu)!.ts;
    // Both targets are halted idle: each takes the interrupt haltExitNs (500) after it arrives.
    expect(entry(9)).toBe(100 + 500 + 500);
    expect(entry(1)).toBe(100 + 100 + 200 + 500);
    expect(sys.trace.named("ipi_entry").every((r) => r.fields.reason === "Doorbell interrupts")).toBe(true);
  });

  it.each([
    ["pseries-powervm-xive", { doorbells: 7, xiveTriggers: 56 }],
    ["pseries-powervm-xics", { doorbells: 7, hIpiHcalls: 56 }],
    ["pseries-kvm-xive", { xiveTriggers: 63 }],
    ["pseries-kvm-xics", { msgsndpTraps: 7, hIpiHcalls: 56 }],
  ] as const)("%s: a 64-CPU broadcast from CPU 0 takes the platform's paths %j", (platform, expected) => {
    const st = broadcastStats(ppc(64, { platform, threadsPerCore: "8" }));
    expect(paths(st)).toEqual({ ...none, ...expected });
    expect(st.messagesSent).toBe(63);
  });

  it("pseries KVM guests: with XIVE a sibling gets no doorbell; with XICS msgsndp to a sibling is trapped (a hypervisor entry)", () => {
    const cost = (platform: string, target: number) => {
      const sys = ppc(16, { platform, threadsPerCore: "8", hcallNs: "1700" });
      let ns = 0;
      spawnProgram(sys, 0, function* () {
        const t0 = sys.machine.now;
        yield* sys.arch.sendCallFunctionSingleIpi(target);
        ns = sys.machine.now - t0;
      });
      expect(sys.run().status).toBe("completed");
      return [ns, sys.trace.named("ipi_entry")[0].fields.reason];
    };
    expect(cost("pseries-kvm-xive", 1)).toEqual([200, "IPI"]);
    expect(cost("pseries-kvm-xics", 1)).toEqual([1700, "Doorbell interrupts"]);
    expect(cost("pseries-powervm-xics", 1)).toEqual([100, "Doorbell interrupts"]);
    expect(cost("pseries-powervm-xics", 9)).toEqual([1700, "IPI"]);
  });

  it.each([
    ["1", 0, 63],
    ["2", 1, 62],
    ["4", 3, 60],
  ])(
    "threadsPerCore=%s: %d doorbells, %d controller sends; a mask send costs one hardware send per target",
    (tpc, doorbells, others) => {
      const sys = ppc(64, { platform: "pseries-powervm-xive", threadsPerCore: tpc });
      expect(sys.machine.topology.threadsPerCore).toBe(Number(tpc));
      const st = broadcastStats(sys);
      expect([st.doorbells, st.xiveTriggers]).toEqual([doorbells, others]);
      expect(st.doorbells + st.xiveTriggers).toBe(63);
    },
  );

  it("the demux loop re-checks the word: a message set while handling is handled in the same interrupt", () => {
    const sys = ppc(16);
    function sets_reschedule(_: unknown, cpu: number) {
      return (function* () {
        yield* sys.arch.sendRescheduleIpi(cpu);
      })();
    }
    spawnProgram(sys, 0, function* () {
      yield* sys.kernel.smpCallFunctionSingle(9, sets_reschedule, null, true);
    });
    sys.run();
    const entries = sys.trace.records
      .filter(
        (r) =>
          r.cpu === 9 &&
          (r.name === "ipi_entry" || r.name === "ipi_exit" || r.name === "powerpc_ipi_message"),
      )
      .map((r) => (r.name === "powerpc_ipi_message" ? r.fields.msg : r.name));
    expect(entries.slice(0, 4)).toEqual(["ipi_entry", "call_function", "reschedule", "ipi_exit"]);
    expect(sys.arch.statistics().demuxLoops).toBeGreaterThanOrEqual(2);
  });

  it("tick broadcast and NMI messages are demuxed after call function and reschedule", () => {
    const sys = ppc(8, { threadsPerCore: "4" });
    holdIrqsOff(sys, 5, 20_000);
    spawnProgram(sys, 0, function* () {
      yield 100;
      const a = muxed(sys);
      yield* a.sendNmiIpi(5);
      yield* a.sendTickBroadcast(5);
      yield* sys.arch.sendRescheduleIpi(5);
      yield* sys.kernel.smpCallFunctionSingle(5, () => undefined, null, false);
    });
    sys.run();
    expect(messagesHandled(sys, 5)).toEqual(["call_function", "reschedule", "tick_broadcast", "nmi_ipi"]);
  });

  it("a mask send is one target after the other: target k's message is set and its IPI caused once the sender has paid for the k before it", () => {
    // POWER8, 4 threads a core: CPU 0's siblings 1-3 get doorbells (100 ns to send, 200 to
    // arrive), CPUs 4-7 XICS MFRR writes (300 ns to send, 1500 to arrive).
    const sys = ppc(8, { platform: "powernv-power8", threadsPerCore: "4" }, { cost: { deliveryJitter: 0 } });
    const seen: number[][] = [];
    spawnProgram(sys, 3, function* () {
      // Another CPU looks at the targets' message words while the send is under way.
      for (const t of [1050, 1150, 1450]) {
        yield t - sys.machine.now;
        seen.push([2, 5, 6].map((cpu) => muxed(sys).messageWord(cpu)));
      }
    });
    spawnProgram(sys, 0, function* () {
      yield 1000;
      yield* sys.arch.sendCallFunctionIpiMask(CpuMask.of(8, [2, 5, 6]));
    });
    expect(sys.run().status).toBe("completed");
    expect(seen).toEqual([
      [1, 0, 0],
      [1, 1, 0],
      [1, 1, 1],
    ]);
    const raised = sys.trace.named("ipi_raise").map((r) => [r.ts, r.fields.target_cpus]);
    expect(raised).toEqual([
      [1000, 2],
      [1100, 5],
      [1400, 6],
    ]);
    // Arrival: send cost + latency after the target's own turn (not the first target's); each
    // target is halted idle and takes the interrupt haltExitNs (500) after it arrives.
    const entry = (cpu: number) => sys.trace.named("ipi_entry").find((r) => r.cpu === cpu)!.ts;
    expect(entry(2)).toBe(1000 + 100 + 200 + 500);
    expect(entry(5)).toBe(1100 + 300 + 1500 + 500);
    expect(entry(6)).toBe(1400 + 300 + 1500 + 500);
  });

  it("a mask send can be interrupted between targets, as the kernel's loop runs with interrupts on", () => {
    const sys = ppc(8, { platform: "powernv-power8", threadsPerCore: "4" }, { cost: { deliveryJitter: 0 } });
    spawnProgram(sys, 1, function* () {
      yield 1000;
      yield* sys.arch.sendRescheduleIpi(0); // reaches CPU 0 at 1000 + 100 + 200
    });
    spawnProgram(sys, 0, function* () {
      yield 1200;
      yield* sys.arch.sendCallFunctionIpiMask(CpuMask.of(8, [4, 5, 6]));
    });
    expect(sys.run().status).toBe("completed");
    const on0 = sys.trace.records.filter(
      (r) => r.cpu === 0 && (r.name === "ipi_raise" || r.name === "ipi_entry"),
    );
    // CPU 4's turn at 1200 (an XICS write, 300 ns); the doorbell from CPU 1 lands at 1300, so CPU 0
    // takes it when that write is done (1500), before CPU 5's turn; CPUs 5 and 6 after the handler.
    expect(on0.map((r) => [r.name, r.fields.target_cpus])).toEqual([
      ["ipi_raise", 4],
      ["ipi_entry", undefined],
      ["ipi_raise", 5],
      ["ipi_raise", 6],
    ]);
    expect(on0[0].ts).toBe(1200);
    expect(on0[1].ts).toBe(1500);
    expect(on0[2].ts).toBeGreaterThan(1500);
  });

  it.each(["powernv-power8", "pseries-powervm-xics"])(
    "%s: a controller IPI and a doorbell both pending when interrupts come back on: the controller's is taken first (6.1 replays EE before DBELL), the doorbell then finds an empty word",
    (platform) => {
      const sys = ppc(16, { platform, threadsPerCore: "8" }, { cost: { deliveryJitter: 0 } });
      const log: CallbackRun[] = [];
      holdIrqsOff(sys, 1, 20_000);
      // CPU 0 (a sibling of CPU 1) rings its doorbell first; CPU 9 (another core) then sends
      // through the interrupt controller.
      spawnProgram(sys, 0, function* () {
        yield 100;
        yield* sys.arch.sendRescheduleIpi(1);
      });
      spawnProgram(sys, 9, function* () {
        yield 1000;
        yield* sys.kernel.smpCallFunctionSingle(1, callbackRecorder(sys, log), "call", false);
      });
      expect(sys.run().status).toBe("completed");
      const on1 = sys.trace.records
        .filter((r) => r.cpu === 1 && (r.name === "ipi_entry" || r.name === "powerpc_ipi_message"))
        .map((r) => (r.name === "ipi_entry" ? r.fields.reason : r.fields.msg));
      expect(on1).toEqual(["IPI", "call_function", "reschedule", "Doorbell interrupts"]);
      expect(log.map((r) => r.cpu)).toEqual([1]);
      expect(sys.arch.statistics()).toMatchObject({
        interrupts: 2,
        demuxLoops: 2,
        doorbellAcks: 1,
        controllerEois: 1,
      });
    },
  );

  it.each([
    ["powernv-power8", 9, "IPI", 0, 1],
    ["powernv-power9", 9, "Doorbell interrupts", 0, 1],
    ["pseries-powervm-xics", 9, "IPI", 1, 1],
    ["pseries-powervm-xive", 9, "IPI", 0, 1],
    ["pseries-kvm-xive", 1, "IPI", 0, 1],
  ] as const)(
    "%s: an IPI raised at an offline CPU (%d, %s) is taken %d time(s) once it is back; the message stays in the word for the next IPI",
    (platform, target, reason, takenWhenBack, absorbed) => {
      const sys = ppc(16, { platform, threadsPerCore: "8" }, { cost: { deliveryJitter: 0 } });
      const log: CallbackRun[] = [];
      expect(sys.kernel.cpuDown(target)).toBe(0);
      let word = -1;
      let irqsWhenBack = -1;
      spawnProgram(sys, 0, function* () {
        yield 1000;
        yield* sys.arch.sendCallFunctionSingleIpi(target);
        yield 50_000;
        sys.kernel.cpuUp(target);
        yield 50_000;
        irqsWhenBack = sys.machine.cpus[target].counters.irqsTaken;
        word = muxed(sys).messageWord(target);
        yield* sys.kernel.smpCallFunctionSingle(target, callbackRecorder(sys, log), "back", true);
      });
      expect(sys.run().status).toBe("completed");
      expect(irqsWhenBack).toBe(takenWhenBack);
      // powernv's offline loop cleared the interrupt but not the message byte (6.1 keeps it).
      expect(word).toBe(takenWhenBack === 0 ? 1 : 0);
      expect(sys.arch.statistics()).toMatchObject({
        messagesAbsorbed: takenWhenBack === 0 ? absorbed : 0,
        offlineIpisCleared: 1 - takenWhenBack,
      });
      expect(log.map((r) => r.cpu)).toEqual([target]);
      expect(sys.trace.named("ipi_entry").filter((r) => r.cpu === target)[0].fields.reason).toBe(reason);
    },
  );

  it.each([
    ["powernv-power9", 0, 1],
    ["pseries-powervm-xics", 1, 0],
  ] as const)(
    "%s: smp_send_reschedule to an offline CPU is passed to the arch, which sends the message as to any CPU (6.1 checks nothing): taken %d time(s) once it is back",
    (platform, takenWhenBack, cleared) => {
      const sys = ppc(16, { platform, threadsPerCore: "8" }, { cost: { deliveryJitter: 0 } });
      expect(sys.kernel.cpuDown(9)).toBe(0);
      let word = -1;
      spawnProgram(sys, 0, function* () {
        yield 1000;
        yield* sys.kernel.smpSendReschedule(9);
        word = muxed(sys).messageWord(9);
        yield 50_000;
        sys.kernel.cpuUp(9);
        yield 50_000;
      });
      expect(sys.run().status).toBe("completed");
      expect(word).toBe(0b10); // PPC_MSG_RESCHEDULE's byte set at the offline CPU
      expect(sys.kernel.stats.rescheduleIpis).toBe(1);
      expect(sys.arch.statistics()).toMatchObject({
        messagesSent: 1,
        offlineIpisCleared: cleared,
        rescheduleMessages: takenWhenBack,
      });
      expect(messagesHandled(sys, 9)).toEqual(takenWhenBack === 1 ? ["reschedule"] : []);
      expect(sys.kernel.warnings.records).toEqual([]);
    },
  );

  it.each([
    ["powernv-power8", 1, 1],
    ["pseries-powervm-xics", 1, 1],
    ["pseries-powervm-xive", 2, 0],
  ] as const)(
    "%s: a controller IPI landing between the interrupt's entry and the demux is %s interrupt(s): XICS resets the MFRR before the demux (the IPI is wiped, its message demuxed), XIVE's queued trigger fires again after the EOI",
    (platform, interrupts, wiped) => {
      const sys = ppc(32, { platform, threadsPerCore: "8" }, { cost: { deliveryJitter: 0 } });
      // CPU 0 and CPU 17 are both in other cores than CPU 9: controller IPIs.
      spawnProgram(sys, 0, function* () {
        yield 1000;
        yield* sys.kernel.smpCallFunctionSingle(9, () => undefined, null, false);
      });
      // Lands 100 ns after CPU 9 took the first one (arrival + haltExitNs 500), inside its
      // irqEntryNs (300), whatever the platform's delivery time.
      spawnProgram(sys, 17, function* () {
        yield 1600;
        yield* sys.arch.sendRescheduleIpi(9);
      });
      expect(sys.run().status).toBe("completed");
      const entries = sys.trace.named("ipi_entry").filter((r) => r.cpu === 9);
      const raises = sys.trace.named("ipi_raise").filter((r) => r.fields.target_cpus === 9);
      expect(raises).toHaveLength(2);
      expect(messagesHandled(sys, 9)).toEqual(["call_function", "reschedule"]);
      expect(entries).toHaveLength(interrupts);
      expect(sys.arch.statistics()).toMatchObject({
        interrupts,
        demuxLoops: interrupts,
        mfrrResetWiped: wiped,
      });
    },
  );

  it("XIVE: a second trigger before the EOI sets the IPI source's Q bit instead of an event; the EOI re-triggers it: two interrupts, the second finds the word empty", () => {
    const sys = ppc(
      16,
      { platform: "pseries-kvm-xive", threadsPerCore: "8" },
      { cost: { deliveryJitter: 0 } },
    );
    const log: CallbackRun[] = [];
    holdIrqsOff(sys, 1, 20_000);
    spawnProgram(sys, 0, function* () {
      yield 100;
      yield* sys.arch.sendRescheduleIpi(1);
      yield* sys.kernel.smpCallFunctionSingle(1, callbackRecorder(sys, log), "call", false);
    });
    expect(sys.run().status).toBe("completed");
    const on1 = sys.trace.records
      .filter((r) => r.cpu === 1 && (r.name === "ipi_entry" || r.name === "powerpc_ipi_message"))
      .map((r) => (r.name === "ipi_entry" ? r.fields.reason : r.fields.msg));
    expect(on1).toEqual(["IPI", "call_function", "reschedule", "IPI"]);
    expect(log.map((r) => r.cpu)).toEqual([1]);
    // The first trigger raised the interrupt; the second only set Q; CPU 1's own EOI re-triggered.
    const raisers = sys.trace
      .named("ipi_raise")
      .filter((r) => r.fields.target_cpus === 1)
      .map((r) => r.cpu);
    expect(raisers).toEqual([0, 1]);
    expect(sys.arch.statistics()).toMatchObject({
      xiveTriggers: 2,
      ipisCaused: 2,
      xiveTriggersQueued: 1,
      xiveRetriggers: 1,
      interrupts: 2,
      messagesAbsorbed: 0,
    });
  });

  it("mpic-2008: the MSG_ALL_BUT_SELF path reaches every online CPU but the sender, one channel per message", () => {
    const sys = ppc(16, { platform: "mpic-2008" });
    const log: CallbackRun[] = [];
    sys.kernel.cpuDown(11);
    spawnProgram(sys, 3, function* () {
      yield 1000;
      yield* sys.kernel.smpCallFunction(callbackRecorder(sys, log), null, true);
    });
    sys.run();
    expect(sys.arch.statistics()).toMatchObject({ msgAllButSelf: 1, mpicWrites: 1, messagesSent: 0 });
    expect(log.map((r) => r.cpu).sort((a, b) => a - b)).toEqual([
      0, 1, 2, 4, 5, 6, 7, 8, 9, 10, 12, 13, 14, 15,
    ]);
    expect(sys.trace.named("ipi_entry").every((r) => r.fields.reason === "MPIC IPI call_function")).toBe(
      true,
    );
  });

  it("mpic-2008: a partial mask is one message_pass per target, one dispatch write each, one after the other", () => {
    // message_pass takes one CPU or MSG_ALL(_BUT_SELF): a mask that is not all-but-self is sent
    // target by target (as 6.1's MPIC path does too), the sender taking interrupts in between.
    const sys = ppc(16, { platform: "mpic-2008" }, { cost: { deliveryJitter: 0 } });
    spawnProgram(sys, 0, function* () {
      yield 1000;
      yield* sys.arch.sendCallFunctionIpiMask(CpuMask.of(16, [1, 2, 9]));
    });
    expect(sys.run().status).toBe("completed");
    expect(sys.arch.statistics()).toMatchObject({ msgAllButSelf: 0, mpicWrites: 3, ipisCaused: 3 });
    const raised = sys.trace.named("ipi_raise").map((r) => [r.ts, r.fields.target_cpus]);
    expect(raised).toEqual([
      [1000, 1],
      [1400, 2],
      [1800, 9],
    ]);
    // Each target: its own write (mpicSendNs 400) + delivery (1500), then haltExitNs (500).
    const entry = (cpu: number) => sys.trace.named("ipi_entry").find((r) => r.cpu === cpu)!.ts;
    expect([entry(1), entry(2), entry(9)]).toEqual([3400, 3800, 4200]);
  });

  it("mpic-2008: an MPIC addresses at most 32 CPUs: a larger machine is refused", () => {
    expect(() => ppc(32, { platform: "mpic-2008" })).not.toThrow();
    expect(() => ppc(33, { platform: "mpic-2008" })).toThrow(ArchOptionError);
    expect(() => ppc(64, { platform: "mpic-2008" })).toThrow(/mpic-2008.*at most 32 CPUs.*64/);
    expect(() => ppc(64, { platform: "powernv-power8" })).not.toThrow();
  });

  it("mpic-2008 has no tick-broadcast or NMI message: sending one is refused, not a crash", () => {
    const sys = ppc(8, { platform: "mpic-2008" });
    expect(() => muxed(sys).sendTickBroadcast(1).next()).toThrow(InvalidArgumentError);
    expect(() => muxed(sys).sendNmiIpi(1).next()).toThrow(
      /sendNmiIpi: platform mpic-2008 has no such message/,
    );
  });

  it("every call runs exactly once on every platform", () => {
    for (const platform of descriptor.options.platform.type === "enum"
      ? descriptor.options.platform.choices
      : []) {
      const { report } = runWorkload({
        cpus: 32,
        seed: 4,
        arch: descriptor,
        archOptions: { platform },
        workload: "mixed",
        ops: 300,
      });
      expect(report.problems).toEqual([]);
      expect(report.counts.callbacksRun).toBe(report.counts.csdsQueued + report.counts.callbacksLocal);
    }
  });

  it("a machine that is not a whole number of cores has a partial last core", () => {
    const sys = ppc(12, { platform: "powernv-power8", threadsPerCore: "8" });
    spawnProgram(sys, 9, function* () {
      yield* sys.kernel.smpCallFunction(() => undefined, null, true);
    });
    sys.run();
    // CPU 9's core is CPUs 8-11: 3 doorbells, 8 controller sends.
    expect(sys.arch.statistics()).toMatchObject({ doorbells: 3, xicsWrites: 8 });
  });

  it("bad options are refused with the choices", () => {
    expect(() => ppc(16, { platform: "cell" })).toThrow(ArchOptionError);
    expect(() => ppc(16, { platform: "cell" })).toThrow(
      /expected powernv-power8 \| powernv-power9 \| pseries-powervm-xive \| pseries-powervm-xics \| pseries-kvm-xive \| pseries-kvm-xics \| mpic-2008/,
    );
    expect(() => ppc(16, { threadsPerCore: "3" })).toThrow(/expected 1 \| 2 \| 4 \| 8/);
  });
});
