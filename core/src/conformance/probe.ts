import type { ArchIpi, SmpHandlers } from "../arch/arch-ipi";
import type { ArchDescriptor } from "../arch/descriptor";
import type { Interconnect } from "../arch/interconnect";
import { ArchIpiToken, InterconnectToken, MachineToken, SmpHandlersToken } from "../arch/tokens";
import type { CpuMask } from "../machine/cpumask";
import type { Machine } from "../machine/machine";
import type { CpuCode } from "../machine/step";
import { FRAME_IRQ } from "../machine/cpu";
import { describeThrown } from "../errors";
import { ConformanceFailure } from "./types";

/** Most interrupt-context violations a probe keeps (the first is what a check reports). */
const MAX_VIOLATIONS = 20;

/** One piece of backend code a CPU is inside (a send, or the receive path). */
export interface ArchActivity {
  /** `handleInterrupt`, `sendCallFunctionSingleIpi`, `sendCallFunctionIpiMask` or `sendRescheduleIpi`. */
  readonly method: string;
  /** The line (handleInterrupt), the target CPU (single and reschedule sends) or the mask weight. */
  readonly arg: number;
  /** Events dispatched by the machine when the CPU entered it. */
  readonly sinceEvent: number;
  /** Virtual time when the CPU entered it (ns). */
  readonly sinceNs: number;
}

/**
 * What the conformance kit sees of a backend while it runs: which CPU is inside which backend
 * method (for "CPU 3 still in handleInterrupt after 2,000,000 events"), when each CPU was sent an
 * IPI and when it took an interrupt (causality and latency), and which core handlers the receive
 * path called on which CPU (call-function and reschedule messages). The kit builds its machines
 * with {@link probedDescriptor}, which wraps the backend's ArchIpi, the SmpHandlers it calls and
 * the Interconnect it raises lines on; the backend's own behaviour is unchanged.
 */
export class ArchProbe {
  /** Per CPU: the backend methods it is inside, innermost last. */
  readonly active: ArchActivity[][];
  /** Per target CPU: virtual times of every send towards it (single, mask, reschedule), in order. */
  readonly sendTimes: number[][];
  /** Per CPU: virtual times it entered the backend's interrupt entry (`handleInterrupt`), in order. */
  readonly entryTimes: number[][];
  /** Per CPU: times the backend raised a line at this CPU from its own interrupt handler (a second stage). */
  readonly selfRaiseTimes: number[][];
  /** Per CPU: calls of genericSmpCallFunction(Single)Interrupt made by the receive path. */
  readonly callHandlerCalls: Uint32Array;
  /** Per CPU: calls of schedulerIpi made by the receive path. */
  readonly schedulerIpis: Uint32Array;
  /** Per CPU: virtual times of those schedulerIpi calls, in order. */
  readonly schedulerIpiTimes: number[][];
  /** Per CPU: reschedule IPIs sent towards it. */
  readonly reschedulesSent: Uint32Array;
  /** Per CPU: call-function IPIs sent towards it (single sends, and mask sends with it in the mask). */
  readonly callsSent: Uint32Array;
  /**
   * Interface rules the backend broke, in the order seen (at most {@link MAX_VIOLATIONS}):
   * a send or the receive path that returns with the caller's interrupt state changed, a core
   * call handler called with interrupts on or outside hard-IRQ context (callbacks must run with
   * interrupts off, in the interrupt), schedulerIpi called on a CPU more often than reschedules
   * were sent to it, or a mask send that changed the caller's mask. Every guarded kit run fails
   * on the first of them.
   */
  readonly contextViolations: string[] = [];
  /**
   * Rules broken that a check's own findings explain better when it has any (a call handler called
   * on a CPU more often than call-function IPIs were sent to it: also what an IPI sent to a wrong
   * CPU looks like): the kit reports the first of them when the check found nothing else.
   */
  readonly laterViolations: string[] = [];
  /**
   * Per interrupt line: which core handlers its interrupts called (bit 0: a call handler, bit 1:
   * schedulerIpi), for the line names (a line that carries only reschedules is not named as the
   * call-function one).
   */
  readonly lineHandlers = new Map<number, number>();
  /** The backend's statistics before its first guarded run (a copy), for {@link statisticsAfter}. */
  private statsAtStart: Record<string, number> | null = null;
  /** Line raises by the backend, and hardware callbacks it scheduled. */
  raises = 0;
  hardwareCallbacks = 0;

  constructor(readonly machine: Machine) {
    const n = machine.nrCpus;
    this.active = Array.from({ length: n }, () => []);
    this.sendTimes = Array.from({ length: n }, () => []);
    this.entryTimes = Array.from({ length: n }, () => []);
    this.selfRaiseTimes = Array.from({ length: n }, () => []);
    this.callHandlerCalls = new Uint32Array(n);
    this.schedulerIpis = new Uint32Array(n);
    this.schedulerIpiTimes = Array.from({ length: n }, () => []);
    this.reschedulesSent = new Uint32Array(n);
    this.callsSent = new Uint32Array(n);
  }

  /** The backend's ArchIpi seen through the probe. */
  wrapArch(inner: ArchIpi): ArchIpi {
    const m = this.machine;
    return {
      sendCallFunctionIpiMask: (mask: CpuMask): CpuCode<void> => {
        const n = mask.nrCpuIds;
        for (let c = mask.first(); c < n; c = mask.next(c)) {
          this.sendTimes[c]?.push(m.now);
          if (c < this.callsSent.length) this.callsSent[c]++;
        }
        return this.checkMaskUnchanged(
          mask,
          this.track(m.current, "sendCallFunctionIpiMask", mask.weight(), () =>
            inner.sendCallFunctionIpiMask(mask),
          ),
        );
      },
      sendCallFunctionSingleIpi: (cpu: number): CpuCode<void> => {
        this.sendTimes[cpu]?.push(m.now);
        if (cpu >= 0 && cpu < this.callsSent.length) this.callsSent[cpu]++;
        return this.track(m.current, "sendCallFunctionSingleIpi", cpu, () =>
          inner.sendCallFunctionSingleIpi(cpu),
        );
      },
      sendRescheduleIpi: (cpu: number): CpuCode<void> => {
        this.sendTimes[cpu]?.push(m.now);
        if (cpu >= 0 && cpu < this.reschedulesSent.length) this.reschedulesSent[cpu]++;
        return this.track(m.current, "sendRescheduleIpi", cpu, () => inner.sendRescheduleIpi(cpu));
      },
      handleInterrupt: (cpu: number, line: number): CpuCode<void> => {
        this.entryTimes[cpu].push(m.now);
        return this.track(cpu, "handleInterrupt", line, () => inner.handleInterrupt(cpu, line));
      },
      lineName: (line: number) => inner.lineName(line),
      statistics: () => {
        try {
          return inner.statistics();
        } catch (e) {
          const back = m.cpus.filter((c) => c.online).length;
          throw new ConformanceFailure(
            `the backend's statistics() threw ${describeThrown(e)} at t=${fmt(m.now)} ns (${back} of ${m.nrCpus} CPUs online): statistics() must always return its counters, also after CPUs went offline and came back`,
          );
        }
      },
    };
  }

  /** The core handlers the backend calls, counted per CPU. */
  wrapHandlers(inner: SmpHandlers): SmpHandlers {
    const m = this.machine;
    return {
      genericSmpCallFunctionInterrupt: (): CpuCode<void> => {
        this.checkHandlerContext("genericSmpCallFunctionInterrupt");
        return inner.genericSmpCallFunctionInterrupt();
      },
      genericSmpCallFunctionSingleInterrupt: (): CpuCode<void> => {
        this.checkHandlerContext("genericSmpCallFunctionSingleInterrupt");
        return inner.genericSmpCallFunctionSingleInterrupt();
      },
      schedulerIpi: (): void => {
        const cpu = m.current;
        if (cpu >= 0) {
          this.checkTrapContext("schedulerIpi", cpu);
          this.noteLine(cpu, 2);
          this.schedulerIpis[cpu]++;
          this.schedulerIpiTimes[cpu].push(m.now);
          // Reschedules may merge (fewer calls than sends), never multiply.
          if (this.schedulerIpis[cpu] > this.reschedulesSent[cpu])
            this.violate(
              `the receive path called schedulerIpi on CPU ${cpu} ${this.schedulerIpis[cpu]} time(s) by t=${fmt(m.now)} ns, but only ${this.reschedulesSent[cpu]} reschedule IPI(s) had been sent to it: a spurious reschedule (call schedulerIpi only for a reschedule message; is another message, e.g. call-function, taken as one, or a reschedule delivered to a wrong CPU?)`,
            );
        }
        inner.schedulerIpi();
      },
    };
  }

  /**
   * The wires the backend raises lines on, counted. Every other member of the Interconnect is
   * the machine's own (a proxy, so members added to the interface later pass through as they are).
   */
  wrapInterconnect(inner: Interconnect): Interconnect {
    const m = this.machine;
    // Every argument passes through (a raise's sentAfterNs too: dropping it made the kit run a
    // backend that times a batch with it, sparc's Cheetah, earlier than it runs anywhere else).
    const raise = (target: number, line: number, delayNs: number, sentAfterNs?: number): number => {
      this.raises++;
      const stack = target >= 0 && target < this.active.length ? this.active[target] : undefined;
      if (m.current === target && stack !== undefined && stack.some((a) => a.method === "handleInterrupt"))
        this.selfRaiseTimes[target].push(m.now + Math.max(0, delayNs) + Math.max(0, sentAfterNs ?? 0));
      return inner.raise(target, line, delayNs, sentAfterNs);
    };
    const schedule = (delayNs: number, fn: () => void): void => {
      this.hardwareCallbacks++;
      inner.schedule(delayNs, fn);
    };
    const bound = new Map<PropertyKey, unknown>();
    return new Proxy(inner, {
      get(target, prop) {
        if (prop === "raise") return raise;
        if (prop === "schedule") return schedule;
        const v: unknown = Reflect.get(target, prop, target);
        if (typeof v !== "function") return v;
        let b = bound.get(prop);
        if (b === undefined) bound.set(prop, (b = (v as (...a: unknown[]) => unknown).bind(target)));
        return b;
      },
    });
  }

  /** A core handler (`kind`: 1 call, 2 reschedule) was called in the interrupt `cpu` is handling. */
  private noteLine(cpu: number, kind: number): void {
    const stack = this.active[cpu];
    for (let i = stack.length - 1; i >= 0; i--)
      if (stack[i].method === "handleInterrupt") {
        const line = stack[i].arg;
        this.lineHandlers.set(line, (this.lineHandlers.get(line) ?? 0) | kind);
        return;
      }
  }

  /** Before a guarded run: keep a copy of the statistics the first time (the backend is fresh then). */
  statisticsBefore(arch: ArchIpi): void {
    if (this.statsAtStart === null) this.statsAtStart = { ...arch.statistics() };
  }

  /**
   * After a guarded run: the statistics have the keys they had before the system's first run,
   * and no counter is below its value then (keys are stable and counters only grow, whatever the
   * run did: hotplug, faults, a send to an offline CPU).
   */
  statisticsAfter(arch: ArchIpi): void {
    const start = this.statsAtStart;
    if (start === null) return;
    const now = arch.statistics();
    const was = Object.keys(start).join(", ");
    const is = Object.keys(now).join(", ");
    if (was !== is) {
      this.violate(
        `the backend's statistics keys changed during the run, from (${was}) to (${is}): statistics() must give the same keys from the start (a key added on first use, e.g. after a CPU came back or a fault, or one dropped)`,
      );
      return;
    }
    for (const [k, v] of Object.entries(now))
      if (!(v >= start[k]))
        this.violate(
          `statistic ${k} went from ${start[k]} before the run to ${v} after it: counters must only grow (a read-to-clear counter, or one summed over the online CPUs only?)`,
        );
  }

  /** A core call handler is being called on the current CPU: count it, check the context. */
  private checkHandlerContext(handler: string): void {
    const cpu = this.machine.current;
    if (cpu < 0) return;
    this.callHandlerCalls[cpu]++;
    this.noteLine(cpu, 1);
    const c = this.machine.cpus[cpu];
    if (!c.irqsDisabled || c.hardirqDepth === 0)
      this.violate(
        `the receive path called ${handler} on CPU ${cpu} ${c.hardirqDepth === 0 ? "outside hard-IRQ context" : "with interrupts enabled"}: callbacks must run with interrupts off, in the interrupt handler`,
      );
    else this.checkTrapContext(handler, cpu);
    // Call-function IPIs may merge (fewer handler calls than sends), never multiply.
    if (this.callHandlerCalls[cpu] > this.callsSent[cpu] && this.laterViolations.length < MAX_VIOLATIONS)
      this.laterViolations.push(
        `the receive path called ${handler} on CPU ${cpu} ${this.callHandlerCalls[cpu]} time(s) by t=${fmt(this.machine.now)} ns, but only ${this.callsSent[cpu]} call-function IPI(s) had been sent to it: a spurious call-function message (call the call handlers only for a call-function message; is a reschedule, e.g., taken as one, or a call handler called twice for one message?)`,
      );
  }

  /**
   * A core handler runs in the interrupt the current CPU is handling: that interrupt must have
   * been taken with interrupts enabled. One taken while the interrupted code had them off (a trap
   * line, `Interconnect.setTrapLines`) would run callbacks and `scheduler_ipi` inside a
   * `local_irq_disable` section; the kernel runs both from maskable interrupts (sparc64: the
   * softint the mondo trap raises, masked by the raised PIL).
   */
  private checkTrapContext(handler: string, cpu: number): void {
    const c = this.machine.cpus[cpu];
    for (let i = c.depth - 1; i >= 0; i--) {
      if (c.frameKind(i) !== FRAME_IRQ) continue;
      if (c.frameSavedIrqs(i))
        this.violate(
          `the receive path called ${handler} on CPU ${cpu} at t=${fmt(this.machine.now)} ns in an interrupt (line ${c.frameLine(i)}) taken while the interrupted code had interrupts disabled: a trap line (setTrapLines) must not call the core handlers, or callbacks run inside local_irq_disable sections; raise a maskable line from the trap and call them from its handler (sparc64's softint)`,
        );
      return;
    }
  }

  private violate(message: string): void {
    if (this.contextViolations.length < MAX_VIOLATIONS) this.contextViolations.push(message);
  }

  /** Run a mask send, then check it left the caller's mask as it was (the mask is the caller's, read-only). */
  private *checkMaskUnchanged(mask: CpuMask, send: CpuCode<void>): CpuCode<void> {
    const before = mask.clone();
    const cpu = this.machine.current;
    yield* send;
    if (!mask.equals(before))
      this.violate(
        `sendCallFunctionIpiMask on CPU ${cpu} changed the caller's mask from ${maskText(before)} to ${maskText(mask)}: the mask belongs to the caller (the kernel's const struct cpumask *); copy it if the backend needs to change one`,
      );
  }

  private *track(cpu: number, method: string, arg: number, body: () => CpuCode<void>): CpuCode<void> {
    const stack = cpu >= 0 && cpu < this.active.length ? this.active[cpu] : null;
    stack?.push({ method, arg, sinceEvent: this.machine.eventsDispatched, sinceNs: this.machine.now });
    const c = stack !== null ? this.machine.cpus[cpu] : null;
    const irqsOffAtEntry = c?.irqsDisabled;
    try {
      yield* body();
    } finally {
      stack?.pop();
    }
    if (c !== null && c.irqsDisabled !== irqsOffAtEntry)
      this.violate(
        `${method} (${method === "handleInterrupt" ? "line" : method === "sendCallFunctionIpiMask" ? "CPUs" : "to CPU"} ${arg}) on CPU ${cpu} returned with interrupts ${c.irqsDisabled ? "disabled" : "enabled"}; it was entered with them ${irqsOffAtEntry ? "disabled" : "enabled"}: backend code must leave the interrupt state as it found it`,
      );
  }

  /**
   * What the backend is doing right now, oldest first, for a report: "CPU 3 still in
   * handleInterrupt (line 0, Function call interrupts) after 1,999,990 events (since t=5,100 ns)".
   */
  describeActivity(lineName: (line: number) => string, max = 3): string[] {
    const m = this.machine;
    const now = m.eventsDispatched;
    const found: [ArchActivity, number][] = [];
    for (let cpu = 0; cpu < this.active.length; cpu++) {
      const a = this.active[cpu][0];
      if (a !== undefined) found.push([a, cpu]);
    }
    found.sort((x, y) => x[0].sinceEvent - y[0].sinceEvent || x[1] - y[1]);
    const lines = found.slice(0, max).map(([a, cpu]) => {
      const inner = this.active[cpu][this.active[cpu].length - 1];
      const what =
        a.method === "handleInterrupt"
          ? `handleInterrupt (line ${a.arg}, ${safeName(lineName, a.arg)})`
          : a.method === "sendCallFunctionIpiMask"
            ? `sendCallFunctionIpiMask (${a.arg} CPUs)`
            : `${a.method} (to CPU ${a.arg})`;
      const nested = inner !== a ? `, now in ${inner.method}` : "";
      return `CPU ${cpu} still in ${what}${nested} after ${fmt(now - a.sinceEvent)} events (since t=${fmt(a.sinceNs)} ns)`;
    });
    if (found.length > max) lines.push(`${found.length - max} more CPU(s) inside the backend`);
    return lines;
  }
}

/** A mask as a cpulist for a message, cut short: `0-3,5`, `(empty)`. */
function maskText(mask: CpuMask): string {
  const t = mask.toString();
  return t === "" ? "(empty)" : t.length > 60 ? `${t.slice(0, 57)}...` : t;
}

function safeName(lineName: (line: number) => string, line: number): string {
  try {
    return lineName(line);
  } catch {
    return `line ${line}`;
  }
}

/** 2000000 → "2,000,000". */
export function fmt(n: number): string {
  return Math.round(n).toLocaleString("en-US");
}

const probes = new WeakMap<Machine, ArchProbe>();
const probed = new WeakMap<ArchDescriptor, ArchDescriptor>();

/** The probe of a machine built from a {@link probedDescriptor}, if any. */
export function probeOf(machine: Machine): ArchProbe | undefined {
  return probes.get(machine);
}

/**
 * The backend `d` with an {@link ArchProbe} around it: same name, options and capabilities; its
 * registration runs with probed SmpHandlers and Interconnect, and its ArchIpi is wrapped.
 */
export function probedDescriptor(d: ArchDescriptor): ArchDescriptor {
  const cached = probed.get(d);
  if (cached) return cached;
  const wrapped: ArchDescriptor = {
    ...d,
    register(container, options) {
      const machine = container.resolve(MachineToken);
      const probe = new ArchProbe(machine);
      probes.set(machine, probe);
      container.register(SmpHandlersToken, {
        useValue: probe.wrapHandlers(container.resolve(SmpHandlersToken)),
      });
      container.register(InterconnectToken, {
        useValue: probe.wrapInterconnect(container.resolve(InterconnectToken)),
      });
      d.register(container, options);
      if (!container.isRegistered(ArchIpiToken, false)) return; // createSmpSystem reports it
      container.register(ArchIpiToken, { useValue: probe.wrapArch(container.resolve(ArchIpiToken)) });
    },
  };
  probed.set(d, wrapped);
  return wrapped;
}
