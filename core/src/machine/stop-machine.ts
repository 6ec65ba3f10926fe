import type { Cpu } from "./cpu";
import type { CpuCode } from "./step";
import { WaitChannel } from "./step";

/** What the stopped CPUs wait on at one stage of a {@link StopMachineRequest}. */
class StopStage extends WaitChannel {
  constructor(
    private readonly req: StopMachineRequest,
    private readonly stage: "gather" | "irqs-off" | "release",
  ) {
    super();
  }
  blocked(): boolean {
    const r = this.req;
    if (this.stage === "gather") return r.arrived < r.members.length;
    if (this.stage === "irqs-off") return r.irqsOff < r.members.length;
    return !r.done;
  }
  describe(): string {
    const r = this.req;
    if (this.stage === "release") return `stop_machine: waiting for CPU ${r.cpu} to finish ${r.what}`;
    const late = r.members.filter((c) => r.arrivedAt[c] === 0);
    return this.stage === "gather"
      ? `stop_machine (${r.what}): waiting for CPU ${late.join(", ")} to reach a point where it can be preempted`
      : `stop_machine (${r.what}): waiting for every CPU to disable interrupts`;
  }
  override holderCpu(): number {
    const r = this.req;
    if (this.stage === "release") return r.cpu;
    for (const c of r.members) if (r.arrivedAt[c] === 0) return c;
    return -1;
  }
}

/**
 * One `stop_machine(fn, cpumask_of(cpu))`: every online CPU is taken over by its stopper, but
 * only at a point where it can be preempted (preemption count 0, interrupts on, not in an
 * interrupt handler); the stoppers spin until all have arrived (still taking interrupts), then
 * all disable interrupts, then `work` runs on `cpu` while the others spin, then all go back to
 * what they were doing. So no CPU is inside a preemption-disabled region while `work` runs.
 */
export class StopMachineRequest {
  /** CPUs that must stop (online when the request became active). */
  members: number[] = [];
  /** Per CPU: 1 once its stopper has arrived (indexed by CPU id). */
  arrivedAt: Uint8Array;
  arrived = 0;
  irqsOff = 0;
  left = 0;
  done = false;
  readonly gather = new StopStage(this, "gather");
  readonly allIrqsOff = new StopStage(this, "irqs-off");
  readonly release = new StopStage(this, "release");

  constructor(
    /** The CPU `work` runs on. */
    readonly cpu: number,
    /** What runs there once every CPU is stopped (e.g. take_cpu_down). */
    readonly work: () => CpuCode<void>,
    /** For messages: `take_cpu_down of CPU 7`. */
    readonly what: string,
    nrCpus: number,
  ) {
    this.arrivedAt = new Uint8Array(nrCpus);
  }

  /** `c`'s stopper has taken over: count it; true when it was the last one to arrive. */
  arrive(c: Cpu): boolean {
    this.arrivedAt[c.id] = 1;
    return ++this.arrived === this.members.length;
  }

  /** Is `c` one of the CPUs this request stops? */
  isMember(c: Cpu): boolean {
    return this.members.includes(c.id);
  }
}

/**
 * multi_cpu_stop on CPU `c` for `req`. `wake` wakes a stage's waiters; `left` is called once
 * this CPU is done with the request (the last one lets the next request start).
 */
export function* multiCpuStop(
  c: Cpu,
  req: StopMachineRequest,
  wake: (stage: WaitChannel) => void,
  left: () => void,
): CpuCode<void> {
  // Arrived (counted by whoever pushed this stopper, see {@link StopMachineRequest.arrive}): spin (interrupts as they were, on) until every CPU's stopper has arrived.
  yield req.gather;
  c.irqsDisabled = true;
  if (++req.irqsOff === req.members.length) wake(req.allIrqsOff);
  if (c.id === req.cpu) {
    yield req.allIrqsOff;
    yield* req.work();
    req.done = true;
    wake(req.release);
  } else {
    yield req.release;
  }
  left();
}
