import type { Machine } from "../machine/machine";
import type { CpuCode } from "../machine/step";
import { WaitChannel } from "../machine/step";

/**
 * Just enough RCU to show the 2008 thread's second hazard. A grace period ends once every other
 * online CPU has passed a quiescent state since it began: been idle, or run with interrupts
 * enabled outside hard IRQ (where the scheduler tick would report one). A CPU spinning with
 * interrupts disabled passes none, so the grace period — and whoever waits for it — cannot end.
 */
export class RcuModel {
  /** Grace periods completed. */
  completed = 0;
  /** Longest grace period, ns. */
  longestGpNs = 0;

  constructor(private readonly machine: Machine, private readonly pollNs = 1000, private readonly stallPolls = 200) {}

  /** Is `cpu` in a quiescent state right now? */
  quiescent(cpu: number): boolean {
    const c = this.machine.cpus[cpu];
    return !c.online || c.dead || c.idle || (!c.irqsDisabled && c.hardirqDepth === 0);
  }

  /**
   * synchronize_rcu: wait for a full grace period. The grace-period machinery polls the CPUs;
   * if one has not passed a quiescent state after `stallPolls` polls, the stall is reported and
   * the waiter stays blocked on it (so the machine's deadlock report shows who holds it up).
   */
  *synchronizeRcu(): CpuCode<void> {
    const m = this.machine;
    const self = m.smpProcessorId();
    const start = m.now;
    const pending = new Set<number>();
    for (let c = 0; c < m.nrCpus; c++) if (c !== self && m.cpus[c].online) pending.add(c);
    for (let poll = 0; ; poll++) {
      for (const c of [...pending]) if (this.quiescent(c)) pending.delete(c);
      if (pending.size === 0) break;
      if (poll >= this.stallPolls) {
        const culprit = Math.min(...pending);
        m.reportProblem({ kind: "invariant", time: m.now, cpu: culprit, message: `rcu: INFO: rcu_sched detected stall: CPU ${culprit} has not passed a quiescent state for ${m.now - start} ns (interrupts ${m.cpus[culprit].irqsDisabled ? "off" : "on"}): the grace period cannot end` });
        yield new GracePeriodStall(culprit);
      }
      yield this.pollNs;
    }
    this.completed++;
    this.longestGpNs = Math.max(this.longestGpNs, m.now - start);
  }
}

/** What a waiter for a stalled grace period spins on: the CPU holding it up must act. */
class GracePeriodStall extends WaitChannel {
  constructor(private readonly culprit: number) {
    super();
  }
  blocked(): boolean {
    return true;
  }
  describe(): string {
    return `an RCU grace period held up by CPU ${this.culprit} (no quiescent state)`;
  }
  override holderCpu(): number {
    return this.culprit;
  }
}
