import { CpuMask } from "../../machine/cpumask";
import type { CpuCode } from "../../machine/step";
import { expectClean, expectRanOn, kitProbe, kitSystem, kitTimeScale, RunLog } from "../support";
import { expectThat, type ConformanceCheck } from "../types";

/** One scenario: who is kept busy with interrupts off, and what is sent. */
interface Scenario {
  readonly what: string;
  /** CPUs that keep interrupts off for a while (so what is sent to them merges into one interrupt). */
  readonly irqsOff: readonly number[];
  /** CPUs that run a task with interrupts on (not idle). */
  readonly busy: readonly number[];
  /** CPUs that must see schedulerIpi. */
  readonly rescheduled: readonly number[];
  /** Call id -> CPUs it must run on. */
  readonly calls: Readonly<Record<string, readonly number[]>>;
  readonly send: (k: Kit) => CpuCode<void>;
}

interface Kit {
  readonly sys: ReturnType<typeof kitSystem>;
  /** A callback recording call `id` on the CPU it runs on. */
  readonly fn: (id: string) => (info: unknown, cpu: number) => void;
}

const N = 8;

const SCENARIOS: readonly Scenario[] = [
  {
    what: "a reschedule alone to idle CPU 3",
    irqsOff: [],
    busy: [],
    rescheduled: [3],
    calls: {},
    *send({ sys }) {
      yield* sys.kernel.smpSendReschedule(3);
    },
  },
  {
    what: "a reschedule alone to CPU 4 running a task",
    irqsOff: [],
    busy: [4],
    rescheduled: [4],
    calls: {},
    *send({ sys }) {
      yield* sys.kernel.smpSendReschedule(4);
    },
  },
  {
    what: "a call-function IPI alone to idle CPU 2",
    irqsOff: [],
    busy: [],
    rescheduled: [],
    calls: { alone: [2] },
    *send({ sys, fn }) {
      yield* sys.kernel.smpCallFunctionSingle(2, fn("alone"), null, true);
    },
  },
  {
    what: "a reschedule then a call to CPU 5 with interrupts off (taken together)",
    irqsOff: [5],
    busy: [],
    rescheduled: [5],
    calls: { afterResched: [5] },
    *send({ sys, fn }) {
      yield* sys.kernel.smpSendReschedule(5);
      yield* sys.kernel.smpCallFunctionSingleAsync(5, sys.kernel.initCsd(fn("afterResched"), null));
    },
  },
  {
    what: "a call then a reschedule to CPU 6 with interrupts off (taken together)",
    irqsOff: [6],
    busy: [],
    rescheduled: [6],
    calls: { beforeResched: [6] },
    *send({ sys, fn }) {
      yield* sys.kernel.smpCallFunctionSingleAsync(6, sys.kernel.initCsd(fn("beforeResched"), null));
      yield* sys.kernel.smpSendReschedule(6);
    },
  },
  {
    what: "a reschedule to CPU 7 and a mask call to CPUs 1 and 7, both with interrupts off",
    irqsOff: [1, 7],
    busy: [],
    rescheduled: [7],
    calls: { mask: [1, 7] },
    *send({ sys, fn }) {
      yield* sys.kernel.smpSendReschedule(7);
      yield* sys.kernel.smpCallFunctionMany(CpuMask.of(N, [1, 7]), fn("mask"), null, false);
    },
  },
];

/** Reschedule and call-function messages, alone and merged into one interrupt, all reach their handlers. */
export const messagesCheck: ConformanceCheck = {
  name: "reschedule-and-call-messages",
  description:
    'reschedule IPIs (smp_send_reschedule) alone, and merged into one interrupt with call-function IPIs: every target calls schedulerIpi, and every call still runs exactly once; a line carrying only reschedules is not named as one carrying only calls, nor given a call-function name ("call" or "func" without "sched"), and a line carrying only calls has no reschedule name',
  run(ctx) {
    // A slow backend's targets keep interrupts off and stay busy longer (the same steps, longer).
    const stepNs = 1_000 * kitTimeScale(ctx);
    // Per line: the core handlers its interrupts called (1 call, 2 reschedule), and its name.
    const lines = new Map<number, { kinds: number; name: string }>();
    for (const sc of SCENARIOS) {
      const sys = kitSystem(ctx, N);
      const probe = kitProbe(sys);
      const log = new RunLog();
      // Targets stay in their task long after interrupts are back on, so a call the receive path
      // drops is not rescued by the idle loop's queue flush before the kit looks.
      const taskEnded = new Set<number>();
      const late = new Set<string>();
      for (const c of sc.irqsOff)
        sys.spawn(
          c,
          (function* () {
            sys.machine.localIrqDisable();
            yield 60 * stepNs;
            sys.machine.localIrqEnable();
            // Busy in 1 us steps (scaled): interrupts are taken between steps.
            for (let i = 0; i < 400; i++) yield stepNs;
            taskEnded.add(c);
          })(),
        );
      for (const c of sc.busy)
        sys.spawn(
          c,
          (function* () {
            for (let i = 0; i < 400; i++) yield stepNs;
            taskEnded.add(c);
          })(),
        );
      const kit: Kit = {
        sys,
        fn: (id) => {
          const record = log.fn(id);
          return (info, cpu) => {
            if (taskEnded.has(cpu)) late.add(`${id}@${cpu}`);
            record(info, cpu);
          };
        },
      };
      sys.spawn(
        0,
        (function* () {
          yield 2_000;
          yield* sc.send(kit);
        })(),
      );
      const out = ctx.guard.run(sys, sc.what);
      for (const cpu of sc.rescheduled) {
        const merged = Object.values(sc.calls).some((cpus) => cpus.includes(cpu));
        expectThat(
          probe.schedulerIpis[cpu] > 0,
          () =>
            `${sc.what}: CPU ${cpu} was sent a reschedule IPI but its receive path never called schedulerIpi${merged ? " (the reschedule message was dropped when it came with a call-function message)" : " (reschedule messages are dropped)"}`,
        );
      }
      for (const [id, cpus] of Object.entries(sc.calls)) {
        const merged = sc.rescheduled.some((c) => cpus.includes(c));
        const ran = log.cpus(id);
        const missing = cpus.filter((c) => !ran.includes(c));
        expectThat(
          missing.length === 0,
          () =>
            `${sc.what}: the call never ran on CPU(s) ${missing.join(", ")}${merged ? ": the call-function message was dropped when it came with a reschedule" : ""}`,
        );
        const rescued = cpus.filter((c) => late.has(`${id}@${c}`));
        expectThat(
          rescued.length === 0,
          () =>
            `${sc.what}: the call ran on CPU ${rescued.join(", ")} only when it went idle (the idle loop's queue flush found it), not in the interrupt${merged ? ": the call-function message was dropped when it came with a reschedule" : ": the call-function interrupt was dropped"}`,
        );
        expectRanOn(sc.what, log, id, cpus);
      }
      expectClean(sc.what, out);
      for (const [line, kinds] of probe.lineHandlers)
        lines.set(line, { kinds: (lines.get(line)?.kinds ?? 0) | kinds, name: sys.arch.lineName(line) });
    }
    // A line that only ever carried reschedules and one that only carried calls are two kinds of
    // interrupt: the trace names them by lineName (ipi_entry's reason), so they must differ.
    for (const [lc, c] of lines)
      for (const [lr, r] of lines)
        expectThat(
          !(c.kinds === 1 && r.kinds === 2 && c.name === r.name),
          () =>
            `line ${lc} carried only call-function messages and line ${lr} only reschedules, but lineName gives both "${c.name}": the trace's ipi_entry and ipi_exit would name a reschedule as a call (or the other way round)`,
        );
    // The name is the reason the trace gives (ipi_entry, ipi_exit) and the /proc/interrupts label:
    // a line that only carried reschedules must not be named as a call-function line, nor one that
    // only carried calls as a reschedule line (names swapped between two lines pass the test above).
    for (const [line, l] of lines) {
      const callName = /call|func/i.test(l.name);
      const reschedName = /sched/i.test(l.name);
      expectThat(
        !(l.kinds === 2 && callName && !reschedName),
        () =>
          `line ${line} carried only reschedules (schedulerIpi), but lineName calls it "${l.name}", a call-function name: the trace's ipi_entry and ipi_exit would name every reschedule as a call (are two lines' names swapped?)`,
      );
      expectThat(
        !(l.kinds === 1 && reschedName),
        () =>
          `line ${line} carried only call-function messages, but lineName calls it "${l.name}", a reschedule name: the trace's ipi_entry and ipi_exit would name every call as a reschedule (are two lines' names swapped?)`,
      );
    }
  },
};
