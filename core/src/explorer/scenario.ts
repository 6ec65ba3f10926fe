import { UsageError } from "../errors";
import { CpuMask } from "../machine/cpumask";
import type { SmpSystem } from "../system";
import type { CallLedger } from "./ledger";
import type { CallPolicy, PolicyRuntime } from "./policies";
import type { FrameTracker } from "./frame-tracker";
import { RcuModel } from "./rcu";
import { memAsyncCsd, memIdleWakeup, memSharedTarget, memSyncResult } from "./memory-scenarios";

/** What a scenario gets to set up one run. */
export interface ScenarioContext {
  readonly system: SmpSystem;
  readonly policy: CallPolicy;
  readonly runtime: PolicyRuntime;
  readonly ledger: CallLedger;
  readonly cpus: number;
  /** Calls each CPU issues. */
  readonly calls: number;
  /** Where each CPU's programs and interrupt handlers are (set by the explorer, for its state key). */
  readonly frames?: FrameTracker;
}

/**
 * A scenario for the explorer: a program per CPU (generators, spawned in `setup`) and
 * invariants. Scenario modules (`--scenario ./file.js`) export one as `scenario` or default.
 */
export interface Scenario {
  readonly name: string;
  readonly description: string;
  /** CPUs when `--cpus` is not given, and the range accepted. */
  readonly defaultCpus: number;
  readonly minCpus?: number;
  readonly maxCpus?: number;
  /**
   * Renamings of CPUs that map every run to a run of this scenario (see docs/explorer.md,
   * Symmetry): `rotation` (CPU c plays CPU c+r's part, mod n) or `permutation` (any renaming).
   * The dfs search then keys states canonically. Absent: none.
   */
  readonly symmetry?: "rotation" | "permutation";
  /** Spawn the programs (through `ctx.policy.call` for cross-calls, recorded in `ctx.ledger`). */
  setup(ctx: ScenarioContext): void;
  /** Extra checks after a completed run: return a message for a violation, or null. */
  readonly invariants?: readonly ((ctx: ScenarioContext) => string | null)[];
}

/** Does `x` look like a Scenario? (For modules loaded by path.) */
export function isScenario(x: unknown): x is Scenario {
  const s = x as Partial<Scenario> | null;
  return (
    typeof s === "object" &&
    s !== null &&
    typeof s.name === "string" &&
    typeof s.setup === "function" &&
    typeof s.defaultCpus === "number"
  );
}

/**
 * The thread's case: every CPU disables interrupts and sends a no-wait call to the next CPU(s)
 * while allocating call data fails, so the 2008 design falls back to on-stack data and waits.
 */
export const seed2008: Scenario = {
  name: "seed-2008",
  description:
    "CPUs with interrupts disabled each send calls to the others while allocations fail (the April 2008 thread)",
  defaultCpus: 2,
  minCpus: 2,
  maxCpus: 8,
  symmetry: "rotation",
  setup(ctx) {
    const { system, policy, runtime, ledger, cpus, calls } = ctx;
    const m = system.machine;
    for (let cpu = 0; cpu < cpus; cpu++) {
      m.spawn(
        cpu,
        (function* () {
          m.localIrqDisable();
          for (let k = 0; k < calls; k++) {
            const target = (cpu + 1 + k) % cpus === cpu ? (cpu + 1) % cpus : (cpu + 1 + k) % cpus;
            const id = `${cpu}.${k}`;
            ledger.issue(id, [target]);
            yield* policy.call(runtime, target, ledger.callback(id), false);
          }
          m.localIrqEnable();
          yield 0;
        })(),
      );
    }
  },
};

/**
 * The thread's case with many-calls: every CPU disables interrupts and sends no-wait
 * `smp_call_function_mask` calls to all the other CPUs while allocating call data fails — on the
 * 2008 design they go on the global call_function list, each with a refs count.
 */
export const seed2008Mask: Scenario = {
  name: "seed-2008-mask",
  description:
    "CPUs with interrupts disabled each send many-calls to all the others while allocations fail (the global call_function list)",
  defaultCpus: 3,
  minCpus: 3,
  maxCpus: 8,
  // No symmetry: a backend raises a mask's IPIs one target after the other in CPU order, so a
  // renaming of the CPUs does not map runs to runs.
  setup(ctx) {
    const { system, policy, runtime, ledger, cpus, calls } = ctx;
    const m = system.machine;
    if (policy.callMany === undefined)
      throw new UsageError(
        `policy ${policy.name} has no many-call (callMany): scenario seed-2008-mask needs one`,
      );
    for (let cpu = 0; cpu < cpus; cpu++) {
      const others = Array.from({ length: cpus }, (_, c) => c).filter((c) => c !== cpu);
      m.spawn(
        cpu,
        (function* () {
          m.localIrqDisable();
          for (let k = 0; k < calls; k++) {
            const id = `${cpu}.${k}`;
            ledger.issue(id, others);
            yield* policy.callMany!(runtime, CpuMask.of(cpus, others), ledger.callback(id), false);
          }
          m.localIrqEnable();
          yield 0;
        })(),
      );
    }
  },
};

/**
 * The thread's second hazard: CPU 0 waits (interrupts off, as in the fallback) for a call whose
 * completion is handed off through RCU — CPU 1's callback finishes only after a grace period —
 * and the grace period needs a quiescent state from CPU 0.
 */
export const rcuStall: Scenario = {
  name: "rcu-stall",
  description:
    "a caller spinning with interrupts off holds up an RCU grace period that its own call waits for",
  defaultCpus: 2,
  minCpus: 2,
  maxCpus: 8,
  setup(ctx) {
    const { system, policy, runtime, ledger } = ctx;
    const m = system.machine;
    const rcu = RcuModel.of(m);
    m.spawn(
      0,
      (function* () {
        m.localIrqDisable();
        ledger.issue("0.0", [1]);
        const done = ledger.callback("0.0");
        yield* policy.call(
          runtime,
          1,
          function rcu_deferred_ack(info: unknown, cpu: number) {
            return (function* () {
              yield* rcu.synchronizeRcu();
              done(info, cpu);
            })();
          },
          false,
        );
        m.localIrqEnable();
        yield 0;
      })(),
    );
  },
};

/** The built-in scenarios. */
export const SCENARIOS: readonly Scenario[] = [
  seed2008,
  seed2008Mask,
  rcuStall,
  memSyncResult,
  memIdleWakeup,
  memSharedTarget,
  memAsyncCsd,
];

/** A built-in scenario by name; throws UsageError listing the choices. */
export function getScenario(name: string): Scenario {
  const s = SCENARIOS.find((x) => x.name === name);
  if (!s)
    throw new UsageError(
      `unknown scenario "${name}"; built-in: ${SCENARIOS.map((x) => x.name).join(", ")}, or a module path exporting a Scenario`,
    );
  return s;
}
