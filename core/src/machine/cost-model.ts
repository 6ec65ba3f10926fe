import { InvalidArgumentError, describeValue } from "../errors";

/**
 * Default costs of the simulated machine, in nanoseconds of virtual time. Orders of magnitude
 * of real hardware; sources and ranges are in docs/cost-model.md. Every figure can be overridden
 * per machine (`MachineConfig.cost`), and backends add their own send/delivery costs.
 */
export interface CostModel {
  /** llist_add of a csd to a target's call_single_queue (one atomic cmpxchg on a remote line). */
  queueAddNs: number;
  /** Locking a free csd (read flags, set LOCK, write barrier). */
  csdLockNs: number;
  /** Filling in func/info and the other per-target bookkeeping of a many-call. */
  perTargetSetupNs: number;
  /** Interrupt entry on the target (vector dispatch, register save, irq_enter). */
  irqEntryNs: number;
  /** Interrupt exit (irq_exit, register restore, iret). */
  irqExitNs: number;
  /** llist_del_all + list reversal at the start of a flush. */
  flushSetupNs: number;
  /** A trivial callback (plain function) body. Generator callbacks pay for their own steps. */
  callbackNs: number;
  /** csd unlock (release store). */
  csdUnlockNs: number;
  /** A spinning CPU noticing the value it spins on changed (cache line transfer). */
  spinWakeNs: number;
  /** Waking from a halted idle state (hlt/mwait exit) before the interrupt is taken. */
  haltExitNs: number;
  /** A polling idle CPU noticing need_resched and leaving the poll loop. */
  pollExitNs: number;
  /** Waking from an MWAIT sleep (a write to the monitored flags word, or an interrupt). */
  mwaitExitNs: number;
  /**
   * The polling window of halt and MWAIT idle: the idle task's loop bookkeeping (interrupts off,
   * TIF_POLLING_NRFLAG set) before each sleep, on entry to idle and after every wake-up. A single
   * call arriving in it sets need_resched instead of sending an IPI.
   */
  idlePollWindowNs: number;
  /** local_irq_save/restore and other tiny bookkeeping steps. */
  tinyNs: number;
  /** Uniform jitter added to every delivery latency, as a fraction of it (0 = none). */
  deliveryJitter: number;
}

/** The defaults used when a machine is created without overrides. */
export const DEFAULT_COST_MODEL: Readonly<CostModel> = Object.freeze({
  queueAddNs: 40,
  csdLockNs: 15,
  perTargetSetupNs: 10,
  irqEntryNs: 300,
  irqExitNs: 200,
  flushSetupNs: 30,
  callbackNs: 50,
  csdUnlockNs: 10,
  spinWakeNs: 60,
  haltExitNs: 500,
  pollExitNs: 80,
  mwaitExitNs: 500,
  idlePollWindowNs: 1000,
  tinyNs: 5,
  deliveryJitter: 0.1,
});

/** Merge overrides into the defaults, rejecting negative or non-numeric figures. */
export function makeCostModel(overrides: Partial<CostModel> = {}): CostModel {
  if (typeof overrides !== "object" || overrides === null)
    throw new InvalidArgumentError(`cost must be an object of figures, got ${describeValue(overrides)}`);
  const model: CostModel = { ...DEFAULT_COST_MODEL, ...overrides };
  for (const [k, v] of Object.entries(model)) {
    if (typeof v !== "number" || !Number.isFinite(v) || v < 0) {
      throw new InvalidArgumentError(
        `cost model figure ${k} must be a finite number >= 0, got ${describeValue(v)}`,
      );
    }
  }
  return model;
}
