import type { Machine } from "../machine/machine";
import type { CpuCode } from "../machine/step";
import { WaitChannel } from "../machine/step";

/**
 * Just enough RCU to show the 2008 thread's second hazard. A grace period ends once every other
 * online CPU has passed a quiescent state since it began: gone idle, or run with interrupts
 * enabled in task context (where the scheduler tick would report one). A CPU spinning with
 * interrupts disabled passes none, so the grace period — and whoever waits for it — cannot end;
 * the machine's deadlock report then shows the waiter spinning on the grace period, held up by
 * that CPU.
 */
export class RcuModel {
  /** Grace periods completed. */
  completed = 0;
  /** Longest grace period, ns. */
  longestGpNs = 0;
  private readonly gp = new GracePeriod();

  constructor(private readonly machine: Machine) {
    machine.onQuiescent = (cpu) => {
      if (this.gp.pending.delete(cpu) && this.gp.pending.size === 0 && this.gp.firstWaiter !== -1)
        machine.wake(this.gp);
    };
  }

  /** Is `cpu` in a quiescent state right now? */
  quiescent(cpu: number): boolean {
    const c = this.machine.cpus[cpu];
    return !c.online || c.dead || c.idle || (!c.irqsDisabled && c.hardirqDepth === 0);
  }

  /** synchronize_rcu: wait for a full grace period. */
  *synchronizeRcu(): CpuCode<void> {
    const m = this.machine;
    const self = m.smpProcessorId();
    const start = m.now;
    this.gp.pending.clear();
    for (let c = 0; c < m.nrCpus; c++) if (c !== self && !this.quiescent(c)) this.gp.pending.add(c);
    if (this.gp.pending.size > 0) yield this.gp;
    this.completed++;
    this.longestGpNs = Math.max(this.longestGpNs, m.now - start);
  }
}

/** The current grace period: the CPUs that have not passed a quiescent state since it began. */
class GracePeriod extends WaitChannel {
  readonly pending = new Set<number>();
  blocked(): boolean {
    return this.pending.size > 0;
  }
  describe(): string {
    const first = Math.min(...this.pending);
    return `an RCU grace period held up by CPU ${first} (no quiescent state)`;
  }
  override holderCpu(): number {
    return this.pending.size > 0 ? Math.min(...this.pending) : -1;
  }
}
