import type { Machine } from "../machine/machine";
import type { CpuCode } from "../machine/step";
import { WaitChannel } from "../machine/step";

/** Callbacks waiting for a grace period: the CPUs that have not passed a quiescent state since call_rcu. */
interface RcuBatch {
  readonly pending: Set<number>;
  readonly callback: () => void;
}

const MODELS = new WeakMap<Machine, RcuModel>();

/**
 * Just enough RCU for the 2008 design and its hazards. A grace period ends once every other
 * online CPU has passed a quiescent state since it began: gone idle, or run with interrupts
 * enabled in task context (where the scheduler tick would report one). A CPU spinning with
 * interrupts disabled, or inside an interrupt handler (walking an RCU-protected list, say; also
 * one taken in idle), passes none, so the grace period — and whoever waits for it — cannot end; the machine's
 * deadlock report then shows the waiter spinning on the grace period, held up by that CPU.
 * One model per machine ({@link RcuModel.of}): it owns the machine's quiescent-state hook.
 */
export class RcuModel {
  /** Grace periods completed. */
  completed = 0;
  /** Longest grace period, ns. */
  longestGpNs = 0;
  /** call_rcu callbacks run (after their grace period). */
  callbacksRun = 0;
  private readonly gp = new GracePeriod();
  /** call_rcu callbacks still waiting, oldest first. */
  private readonly batches: RcuBatch[] = [];

  /** The machine's RCU (created on first use). */
  static of(machine: Machine): RcuModel {
    let m = MODELS.get(machine);
    if (m === undefined) MODELS.set(machine, (m = new RcuModel(machine)));
    return m;
  }

  /** Prefer {@link RcuModel.of}: a second model would take the machine's quiescent hook from the first. */
  constructor(private readonly machine: Machine) {
    MODELS.set(machine, this);
    machine.onQuiescent = (cpu) => {
      if (!this.quiescent(cpu)) return;
      if (this.gp.pending.delete(cpu) && this.gp.pending.size === 0 && this.gp.firstWaiter !== -1)
        machine.wake(this.gp);
      for (let i = 0; i < this.batches.length;) {
        const b = this.batches[i];
        if (b.pending.delete(cpu) && b.pending.size === 0) {
          this.batches.splice(i, 1);
          this.callbacksRun++;
          b.callback();
        } else i++;
      }
    };
  }

  /** Is `cpu` in a quiescent state right now? */
  quiescent(cpu: number): boolean {
    const c = this.machine.cpus[cpu];
    // An interrupt taken in idle is a read-side section too (rcu_irq_enter ends the idle state).
    return !c.online || c.dead || (c.hardirqDepth === 0 && (c.idle || !c.irqsDisabled));
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

  /**
   * call_rcu: run `callback` once every CPU that is not quiescent now — the caller included, it
   * may be inside a read-side section such as an interrupt handler — has passed a quiescent
   * state. Runs it at once if none is pending.
   */
  callRcu(callback: () => void): void {
    const m = this.machine;
    const pending = new Set<number>();
    for (let c = 0; c < m.nrCpus; c++) if (!this.quiescent(c)) pending.add(c);
    if (pending.size === 0) {
      this.callbacksRun++;
      callback();
    } else this.batches.push({ pending, callback });
  }

  /** The state the explorer keys on: per waiting callback, the CPUs it waits for (CPU ids renamed by `perm`). */
  stateKey(perm: Int32Array | null = null): string {
    const name = (c: number) => (perm === null ? c : perm[c]);
    const gp = [...this.gp.pending].map(name).sort((a, b) => a - b);
    const batches = this.batches.map((b) =>
      [...b.pending]
        .map(name)
        .sort((a, b) => a - b)
        .join("."),
    );
    return `${gp.join(".")}|${batches.sort().join(",")}`;
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
