import { offlineDeliveryFor } from "../../arch/descriptor";
import { parseArchOptions } from "../../arch/options";
import { ENXIO } from "../../errors";
import { CpuMask } from "../../machine/cpumask";
import type { CpuCode } from "../../machine/step";
import {
  forEachOptionValue,
  expectClean,
  expectHandlerCalls,
  expectRanOn,
  kitProbe,
  kitTimeScale,
  StatisticsWatch,
  kitSystem,
  KitSteps,
  listText,
  RunLog,
  runProgram,
  IPI_COUNTING,
} from "../support";
import { expectThat, type ConformanceCheck, type ConformanceContext } from "../types";

/** A single IPI reaches exactly its target. */
export const singleIpiCheck: ConformanceCheck = {
  name: "single-ipi-exact-target",
  description:
    "smp_call_function_single: the target takes exactly one IPI, no other CPU takes any, the callback runs once there",
  run(ctx) {
    for (const [n, from, to] of [
      [8, 0, 7],
      [8, 7, 0],
      [8, 2, 3],
      [3, 1, 2],
    ] as const) {
      const sys = kitSystem(ctx, n, IPI_COUNTING);
      const log = new RunLog();
      let ret = -1;
      const out = runProgram(ctx, `single call ${from} -> ${to} on ${n} CPUs`, sys, from, function* () {
        ret = yield* sys.kernel.smpCallFunctionSingle(to, log.fn("single"), null, true);
      });
      const what = `single call ${from} -> ${to} on ${n} CPUs`;
      expectHandlerCalls(what, sys, [to], from);
      expectClean(what, out);
      expectThat(ret === 0, () => `${what}: returned ${ret}, expected 0`);
      expectRanOn(what, log, "single", [to]);
    }
  },
};

/** The mask kinds the kit sends at every machine size. */
function masks(n: number, sender: number): [string, CpuMask][] {
  const one = CpuMask.of(n, [(sender + 1) % n]);
  const two = CpuMask.of(n, n > 2 ? [(sender + 1) % n, (sender + 2) % n] : [(sender + 1) % n]);
  const half = new CpuMask(n);
  for (let c = 0; c < n; c += 2) half.set(c);
  const all = new CpuMask(n).setAll();
  const allButSelf = all.clone().clear(sender);
  return [
    ["1 CPU", one],
    ["2 CPUs", two],
    ["half", half],
    ["all-but-self", allButSelf],
    ["all (sender included)", all],
  ];
}

/** A mask IPI reaches exactly the online CPUs of the mask, never the sender. */
export const maskIpiCheck: ConformanceCheck = {
  name: "mask-ipi-exact",
  description:
    "smp_call_function_many with masks of 1, 2, half, all-but-self and all CPUs at each machine size: exactly the online CPUs of the mask but the sender take one IPI",
  run(ctx) {
    for (const n of ctx.cpuSizes) {
      const sender = n > 2 ? 1 : 0;
      for (const [label, mask] of masks(n, sender)) {
        const sys = kitSystem(ctx, n, IPI_COUNTING);
        const log = new RunLog();
        const out = runProgram(
          ctx,
          `mask "${label}" from CPU ${sender} on ${n} CPUs`,
          sys,
          sender,
          function* () {
            yield* sys.kernel.smpCallFunctionMany(mask, log.fn("many"), null, true);
          },
        );
        const what = `mask "${label}" from CPU ${sender} on ${n} CPUs`;
        const targets = mask.toArray().filter((c) => c !== sender);
        expectHandlerCalls(what, sys, targets, sender);
        expectClean(what, out);
        expectRanOn(what, log, "many", targets);
      }
    }
  },
};

/** How many times `offline-delivery-safe` takes CPU 5 offline, sends it a raw IPI and brings it back. */
const OFFLINE_CYCLES = 3;

/** IPIs towards offline CPUs: refused by the kernel; a raw send is dropped or held safely. */
export const offlineCheck: ConformanceCheck = {
  name: "offline-delivery-safe",
  description:
    "calls to an offline CPU return -ENXIO; a raw IPI to it runs nothing while it is offline, and is taken once when it is back if the backend declares offlineDelivery pending, never if dropped, a raw reschedule likewise, at each of three offline cycles; a call and a reschedule pending at every other CPU but the sender (interrupts off) while it is brought up are still taken; the statistics never go down; with the run's options and with each option at another legal value",
  run(ctx) {
    // offlineDelivery may be a function of the options: it must hold at every value.
    forEachOptionValue(ctx, offlineAt);
  },
};

/** The offline check with the options of `ctx`. */
function offlineAt(ctx: ConformanceContext): void {
  const sys = kitSystem(ctx, 8);
  const probe = kitProbe(sys);
  const stats = new StatisticsWatch(sys);
  const log = new RunLog();
  const stepNs = 1_000 * kitTimeScale(ctx);
  stats.sample("before CPU 5 went offline");
  expectThat(sys.kernel.cpuDown(5) === 0, () => "cpuDown(5) failed");
  let ret = 0;
  let handledWhileOffline = -1;
  let handledWhenBack = -1;
  let reschedWhileOffline = -1;
  let reschedWhenBack = -1;
  let up = false;
  let firstCycleCalls = -1;
  const laterCycles: {
    cycle: number;
    offlineRan: number;
    backRan: number;
    offlineResched: number;
    backResched: number;
  }[] = [];
  // Every other CPU but the sender keeps interrupts off while CPU 5 is brought up, with a call
  // and a reschedule pending: a boot hook that resets other CPUs' state (every CPU's, or a
  // neighbour's by an off-by-one) loses theirs.
  const holders = [1, 2, 3, 4, 6, 7];
  const taskEnded = new Set<number>();
  const ranLate = new Set<number>();
  for (const c of holders)
    sys.spawn(
      c,
      (function* () {
        sys.machine.localIrqDisable();
        while (!up) yield stepNs;
        yield stepNs;
        sys.machine.localIrqEnable();
        // Busy in steps (interrupts are taken between them): a lost message is not rescued by
        // the idle loop's queue flush before the kit looks.
        for (let i = 0; i < 400; i++) yield stepNs;
        taskEnded.add(c);
      })(),
    );
  const heldFn = log.fn("held");
  // A reschedule of an offline CPU is one the kernel's generic code does pass to the arch, and
  // some arches WARN about it (x86's native_smp_send_reschedule): warnings raised inside these
  // raw sends, on the sending CPU, are the backend's correct answer; any other warning fails the check.
  const warnedByReschedule = new Set<unknown>();
  const rawRescheduleOfOffline = function* (): CpuCode<void> {
    const before = sys.kernel.warnings.records.length;
    const self = sys.machine.current;
    yield* sys.arch.sendRescheduleIpi(5);
    for (const w of sys.kernel.warnings.records.slice(before)) if (w.cpu === self) warnedByReschedule.add(w);
  };
  const out = runProgram(ctx, "calls to an offline CPU", sys, 0, function* () {
    yield 1000;
    ret = yield* sys.kernel.smpCallFunctionSingle(5, log.fn("offline"), null, true);
    yield* sys.arch.sendCallFunctionSingleIpi(5);
    yield* rawRescheduleOfOffline();
    for (const c of holders) {
      yield* sys.kernel.smpCallFunctionSingleAsync(
        c,
        sys.kernel.initCsd((info: unknown, cpu: number) => {
          if (taskEnded.has(cpu)) ranLate.add(cpu);
          heldFn(info, cpu);
        }, null),
      );
      yield* sys.kernel.smpSendReschedule(c);
    }
    yield 200 * stepNs;
    handledWhileOffline = sys.kernel.stats.handlerCallsOn[5];
    reschedWhileOffline = probe.schedulerIpis[5];
    stats.sample("while CPU 5 was offline");
    sys.kernel.cpuUp(5);
    up = true;
    yield 200 * stepNs;
    stats.sample("once CPU 5 was back");
    handledWhenBack = sys.kernel.stats.handlerCallsOn[5];
    reschedWhenBack = probe.schedulerIpis[5];
    yield* sys.kernel.smpCallFunctionSingle(5, log.fn("back"), null, true);
    yield 500 * stepNs;
    stats.sample("after a call to CPU 5 once it was back");
    firstCycleCalls = sys.kernel.stats.handlerCallsOn[5];
    // Again, twice: a boot hook that clears (or keeps) what was raised while the CPU was offline
    // only at a CPU's first boot, or from its second on, is wrong at one of them.
    for (let cycle = 2; cycle <= OFFLINE_CYCLES; cycle++) {
      expectThat(sys.kernel.cpuDown(5) === 0, () => `cpuDown(5) for offline cycle ${cycle} failed`);
      yield 200 * stepNs;
      const before = sys.kernel.stats.handlerCallsOn[5];
      const reschedBefore = probe.schedulerIpis[5];
      yield* sys.arch.sendCallFunctionSingleIpi(5);
      yield* rawRescheduleOfOffline();
      yield 200 * stepNs;
      const offlineRan = sys.kernel.stats.handlerCallsOn[5] - before;
      const offlineResched = probe.schedulerIpis[5] - reschedBefore;
      sys.kernel.cpuUp(5);
      yield 200 * stepNs;
      laterCycles.push({
        cycle,
        offlineRan,
        backRan: sys.kernel.stats.handlerCallsOn[5] - before - offlineRan,
        offlineResched,
        backResched: probe.schedulerIpis[5] - reschedBefore - offlineResched,
      });
      stats.sample(`once CPU 5 was back from offline cycle ${cycle}`);
      yield* sys.kernel.smpCallFunctionSingle(5, log.fn(`back${cycle}`), null, true);
      yield 100 * stepNs;
    }
  });
  const heldRan = log.cpus("held");
  for (const c of holders) {
    expectThat(
      heldRan.includes(c) && !ranLate.has(c),
      () =>
        `a call to CPU ${c}, pending (interrupts off) while CPU 5 was brought up, ${ranLate.has(c) ? `ran on CPU ${c} only when it went idle (the idle loop's queue flush found it), not in the interrupt` : `never ran on CPU ${c}`}: bringing CPU 5 up lost CPU ${c}'s call-function IPI (a boot hook, onCpuBoot, must reset only the booting CPU's state)`,
    );
    expectThat(
      probe.schedulerIpis[c] > 0,
      () =>
        `a reschedule to CPU ${c}, pending (interrupts off) while CPU 5 was brought up, never reached schedulerIpi: bringing CPU 5 up lost CPU ${c}'s reschedule IPI (a boot hook, onCpuBoot, must reset only the booting CPU's state)`,
    );
  }
  expectRanOn("calls to CPUs pending while CPU 5 was brought up", log, "held", holders);
  expectRanOn("a call to CPU 5 after it came back online", log, "back", [5]);
  expectClean("offline CPU", out);
  expectThat(ret === -ENXIO, () => `a call to an offline CPU returned ${ret}, expected -ENXIO (${-ENXIO})`);
  expectThat(
    handledWhileOffline === 0,
    () => `an offline CPU ran the core handler ${handledWhileOffline} time(s) while offline`,
  );
  expectRanOn("offline CPU", log, "offline", []);
  expectThat(
    reschedWhileOffline === 0,
    () => `an offline CPU called schedulerIpi ${reschedWhileOffline} time(s) while offline`,
  );
  expectRanOn("CPU back online", log, "back", [5]);
  const d = ctx.descriptor;
  const offline = offlineDeliveryFor(d, parseArchOptions(d.name, d.options, ctx.options));
  const held = offline === "pending" ? 1 : 0;
  expectThat(
    handledWhenBack === held,
    () =>
      `a raw call-function IPI sent to CPU 5 while it was offline ran the core handler ${handledWhenBack} time(s) once CPU 5 was back, expected ${held}: the backend declares offlineDelivery "${offline}"${offline === "pending" ? ' (the IPI stays pending and is taken when the CPU is back), but it was dropped: declare "dropped" if the hardware or the boot drops it' : ' (dropped), but it was taken: declare "pending" if the hardware keeps it'}`,
  );
  const reschedMessage = (n: number, when: string): string =>
    `a raw reschedule IPI sent to CPU 5 while it was offline reached schedulerIpi ${n} time(s) once it was back${when}, expected ${held}: the backend declares offlineDelivery "${offline}", which must hold for reschedules too (${offline === "pending" ? "a reschedule line cleared at boot?" : "a reschedule line kept while the call-function line is dropped?"})`;
  expectThat(reschedWhenBack === held, () => reschedMessage(reschedWhenBack, ""));
  const allowed = offline === "pending" ? 2 : 1;
  expectThat(
    firstCycleCalls <= allowed,
    () =>
      `the CPU back online took ${firstCycleCalls} IPIs; expected at most ${allowed} (offlineDelivery=${offline})`,
  );
  expectThat(
    laterCycles.length === OFFLINE_CYCLES - 1,
    () => `CPU 5 went offline and came back ${laterCycles.length + 1} time(s), expected ${OFFLINE_CYCLES}`,
  );
  for (const c of laterCycles) {
    expectThat(
      c.offlineRan === 0,
      () =>
        `offline cycle ${c.cycle} of CPU 5: it ran the core handler ${c.offlineRan} time(s) while offline`,
    );
    expectThat(
      c.backRan === held,
      () =>
        `offline cycle ${c.cycle} of CPU 5: a raw call-function IPI sent to it while it was offline ran the core handler ${c.backRan} time(s) once it was back, expected ${held} (as after its first return: ${handledWhenBack}): the backend declares offlineDelivery "${offline}", which must hold every time a CPU comes back (a boot hook that ${offline === "pending" ? "drops what was raised while the CPU was offline from its second boot on" : "drops what was raised while the CPU was offline only at its first boot"}?)`,
    );
    expectThat(
      c.offlineResched === 0,
      () =>
        `offline cycle ${c.cycle} of CPU 5: it called schedulerIpi ${c.offlineResched} time(s) while offline`,
    );
    expectThat(c.backResched === held, () => reschedMessage(c.backResched, ` from offline cycle ${c.cycle}`));
    expectRanOn(`a call to CPU 5 after offline cycle ${c.cycle}`, log, `back${c.cycle}`, [5]);
  }
  stats.verify("CPU 5 offline and back");
  const warned = sys.kernel.warnings.records.filter((w) => !warnedByReschedule.has(w));
  expectThat(warned.length === 0, () => `warnings: ${warned.map((w) => w.message).join("; ")}`);
}

/** How long the kit lets a direct mask send's interrupts land (a sun4u cross-call retries NACKs). */
const SETTLE_NS = 20_000_000;

/**
 * The arch's mask send itself, for any mask: the kernel hands a one-CPU mask to the single send,
 * but `arch_send_call_function_ipi_mask` promises every CPU of any mask the call-function IPI.
 */
export const maskSendAnyMaskCheck: ConformanceCheck = {
  name: "mask-send-any-mask",
  description:
    "the backend's sendCallFunctionIpiMask called directly with masks of one CPU (the first, the last, a middle one), a pair far apart and all but the sender, each mask emptied once the send returns: each CPU of the mask runs the call-function handler once, no other CPU does",
  run(ctx) {
    for (const n of ctx.cpuSizes) {
      const sender = n > 2 ? 1 : 0;
      const others = Array.from({ length: n }, (_, c) => c).filter((c) => c !== sender);
      const picks: [string, number[]][] = [
        ["the first CPU", [others[0]]],
        ["the last CPU", [others[others.length - 1]]],
        ["a middle CPU", [others[others.length >> 1]]],
        ["a pair far apart", [...new Set([others[0], others[others.length - 1]])]],
        ["all but the sender", others],
      ];
      const sys = kitSystem(ctx, n, IPI_COUNTING);
      const steps = new KitSteps(kitProbe(sys));
      const out = runProgram(ctx, `direct mask sends on ${n} CPUs`, sys, sender, function* () {
        for (const [label, targets] of picks) {
          const mask = CpuMask.of(n, targets);
          yield* steps.step(
            `a direct mask send to ${label} ${listText(targets)} from CPU ${sender} on ${n} CPUs (the kit empties the mask once the send returns, as the kernel reuses its own: a backend must not keep it)`,
            targets,
            sender,
            function* () {
              yield* sys.arch.sendCallFunctionIpiMask(mask);
              mask.clearAll();
            },
            SETTLE_NS,
          );
        }
      });
      steps.verify(`direct mask sends on ${n} CPUs`, out);
    }
  },
};
