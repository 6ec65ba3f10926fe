import type { SmpCallFunc } from "../kernel/csd";
import { CpuMask } from "../machine/cpumask";
import type { CpuCode } from "../machine/step";
import { WaitChannel } from "../machine/step";
import type { SmpSystem } from "../system";
import { UsageError } from "../errors";
import { Kernel2008, type CallData2008 } from "./kernel-2008";
import { RcuModel } from "./rcu";

/**
 * The shared state of the 2008 proposals on one machine: the 2008 kernel (for policies of the
 * 2008 design), the global lock, the global mask of current targets, the per-CPU counters, and
 * what they cost.
 */
export class PolicyRuntime {
  /** Probability that allocating call data fails (1 = always: the thread's case). */
  allocFailRate: number;
  /** Calls that had to fall back to on-stack data and wait. */
  fallbacks = 0;
  /** Virtual ns callers spent waiting to be admitted (lock, mask, counters): how long they were serialised. */
  serialisedNs = 0;
  /** Holder of the global lock, or -1. */
  lockOwner = -1;
  /** Current targets (the global mask). */
  readonly targets: CpuMask;
  /** Current calls targeting each CPU (the per-CPU counters). */
  readonly targetCount: Int32Array;
  /** Per CPU: the channel it spins on while waiting for admission (all woken on every release). */
  readonly admission: AdmissionChannel[];
  /** The 2008 data structures, for a policy of the 2008 design; null on the modern kernel. */
  readonly kernel2008: Kernel2008 | null;

  constructor(
    readonly system: SmpSystem,
    allocFailRate = 1,
    policy?: CallPolicy,
  ) {
    const n = system.machine.nrCpus;
    this.allocFailRate = allocFailRate;
    this.targets = new CpuMask(n);
    this.targetCount = new Int32Array(n);
    this.admission = Array.from({ length: n }, () => new AdmissionChannel());
    this.kernel2008 = policy?.design === "2008" ? new Kernel2008(system, RcuModel.of(system.machine)) : null;
  }

  /** The 2008 kernel; throws if this runtime runs the modern one. */
  get k08(): Kernel2008 {
    if (this.kernel2008 === null)
      throw new Error("this policy runs on the modern kernel: the 2008 data structures are not built");
    return this.kernel2008;
  }

  /** Does this allocation of call data fail? (A choice the explorer can steer.) */
  allocFails(): boolean {
    if (this.allocFailRate >= 1) return true;
    if (this.allocFailRate <= 0) return false;
    return this.system.machine.chooser.chance(this.allocFailRate, "alloc-fail");
  }

  /**
   * Spin, with interrupts enabled as the proposals do, until `canProceed()`; then run `admit()`
   * atomically with the last check. The time spent is counted as serialisation.
   */
  *admitWhen(what: string, canProceed: () => boolean, admit: () => void): CpuCode<void> {
    const m = this.system.machine;
    const c = m.currentCpu();
    const t0 = m.now;
    if (!canProceed()) {
      const wasOff = c.irqsDisabled;
      if (wasOff) m.localIrqEnable();
      const channel = this.admission[c.id];
      channel.waitFor(what, canProceed);
      while (!canProceed()) yield channel;
      if (wasOff) m.localIrqDisable();
    }
    admit();
    this.serialisedNs += m.now - t0;
  }

  /** Something admission depends on changed: wake the spinners. */
  released(): void {
    const m = this.system.machine;
    for (const ch of this.admission) if (ch.firstWaiter !== -1) m.wake(ch);
  }

  /**
   * The state the explorer keys on: the lock, the mask, the counters and the 2008 kernel's
   * queues, list and RCU callbacks, with CPU ids renamed by `perm` (old -> new) when given.
   */
  stateKey(perm: Int32Array | null = null): string {
    const n = this.targetCount.length;
    const name = (c: number) => (c < 0 || perm === null ? c : perm[c]);
    const counts = new Array<number>(n);
    const mask: number[] = [];
    for (let c = 0; c < n; c++) {
      counts[name(c)] = this.targetCount[c];
      if (this.targets.test(c)) mask.push(name(c));
    }
    const k = this.kernel2008 === null ? "" : this.kernel2008.stateKey(perm);
    return `${name(this.lockOwner)}|${mask.sort((a, b) => a - b).join(".")}|${counts.join(",")}|${k}`;
  }
}

/** What a caller spins on while it is not admitted (its own condition; woken on every release). */
export class AdmissionChannel extends WaitChannel {
  private what = "admission";
  private test: () => boolean = () => true;
  /** Set what the caller waits for and the condition that admits it. */
  waitFor(what: string, canProceed: () => boolean): void {
    this.what = what;
    this.test = canProceed;
  }
  blocked(): boolean {
    return !this.test();
  }
  describe(): string {
    return this.what;
  }
}

/**
 * A call-data design: how `smp_call_function_single(target, fn, info, wait)` (and
 * `smp_call_function_mask`) get their call data and wait. The explorer compares them on the
 * same scenarios.
 */
export interface CallPolicy {
  readonly name: string;
  readonly description: string;
  /**
   * The data structures it runs on: `2008` (the global call_function list, per-CPU
   * call_single_queue, allocated or on-stack call data: kernel-smp.md §9) or `modern` (per-CPU
   * csds and lock-less queues). Default modern.
   */
  readonly design?: "2008" | "modern";
  /** smp_call_function_single(target, fn, null, wait) under this design; returns 0 or a negated errno. */
  call(rt: PolicyRuntime, target: number, fn: SmpCallFunc, wait: boolean): CpuCode<number>;
  /** smp_call_function_mask(mask, fn, null, wait) under this design (the caller is never a target); returns 0. */
  callMany?(rt: PolicyRuntime, mask: CpuMask, fn: SmpCallFunc, wait: boolean): CpuCode<number>;
}

/** Wrap `fn` so `done(cpu)` runs after it, on the CPU that ran it. */
function then(fn: SmpCallFunc, done: (cpu: number) => void): SmpCallFunc {
  const wrapped: SmpCallFunc = (info, cpu) => {
    const r = fn(info, cpu);
    if (r && typeof (r as Generator).next === "function") {
      return (function* () {
        yield* r;
        done(cpu);
      })();
    }
    done(cpu);
    return undefined;
  };
  Object.defineProperty(wrapped, "name", { value: fn.name || "anonymous" });
  return wrapped;
}

const modern: CallPolicy = {
  name: "modern",
  description:
    "per-CPU call data with a CSD lock, as the kernel does today: no allocation, a no-wait call never waits for the callback",
  design: "modern",
  *call(rt, target, fn, wait) {
    return yield* rt.system.kernel.smpCallFunctionSingle(target, fn, null, wait);
  },
  *callMany(rt, mask, fn, wait) {
    yield* rt.system.kernel.smpCallFunctionMany(mask, fn, null, wait);
    return 0;
  },
};

/** How a proposal admits a caller before it queues (spinning with interrupts enabled). */
type Admission = "none" | "global-lock" | "target-mask" | "percpu-counters";

/** A design of the 2008 thread, on the 2008 data structures. */
interface Proposal {
  readonly name: string;
  readonly description: string;
  readonly admission: Admission;
  /** Admission only for on-stack (fallback) calls; allocated calls proceed freely. */
  readonly onlyOnFallback: boolean;
  /** While waiting for on-stack data, run what arrives on this CPU's own queue (interrupts stay off). */
  readonly poll: boolean;
}

/**
 * One call under proposal `p` on the 2008 kernel, to `target` (single) or to the CPUs of
 * `mask` (many): try to allocate (only when not waiting), be admitted, queue, and — with
 * on-stack data — wait (or poll), then release the admission. Allocated calls release their
 * admission target by target, as each callback finishes.
 */
function* proposalCall(
  p: Proposal,
  rt: PolicyRuntime,
  target: number,
  mask: CpuMask | null,
  fn: SmpCallFunc,
  wait: boolean,
): CpuCode<number> {
  const k = rt.k08;
  const m = rt.system.machine;
  const self = m.current;
  let targets: CpuMask;
  if (mask === null) {
    if (target === self || target < 0 || target >= m.nrCpus || !m.cpus[target].online)
      return yield* k.smpCallFunctionSingle(target, fn, false);
    targets = CpuMask.of(m.nrCpus, [target]);
  } else {
    targets = k.targetsOf(mask);
    if (targets.isEmpty()) return 0;
  }
  const allocated = !wait && k.kmalloc(rt.allocFails());
  const admit = p.admission !== "none" && !(p.onlyOnFallback && allocated);
  let releaseOne: (cpu: number) => void = () => {};
  if (admit) {
    const list = targets.toArray();
    const who = list.length === 1 ? `${list[0]}` : `one of ${list.join(",")}`;
    if (p.admission === "global-lock") {
      yield* rt.admitWhen(
        "the global fallback lock",
        () => rt.lockOwner === -1,
        () => (rt.lockOwner = self),
      );
    } else if (p.admission === "target-mask") {
      yield* rt.admitWhen(
        `the global target mask (CPU ${self} or ${who} targeted)`,
        () => !rt.targets.test(self) && !rt.targets.intersects(targets),
        () => {
          for (const c of list) rt.targets.set(c);
        },
      );
      releaseOne = (cpu) => {
        rt.targets.clear(cpu);
        rt.released();
      };
    } else {
      yield* rt.admitWhen(
        `the per-CPU target counters (CPU ${self} is a target)`,
        () => rt.targetCount[self] === 0,
        () => {
          for (const c of list) rt.targetCount[c]++;
        },
      );
      releaseOne = (cpu) => {
        rt.targetCount[cpu]--;
        rt.released();
      };
    }
  }
  const f = admit && allocated ? then(fn, releaseOne) : fn;
  let d: CallData2008 | number;
  if (targets.weight() === 1) d = yield* k.queueSingle(targets.first(), f, allocated);
  else d = yield* k.queueMany(targets, f, allocated);
  if (typeof d === "number") return d;
  if (!allocated) {
    rt.fallbacks++;
    if (p.poll) yield* pollOwnQueue(rt, d);
    else yield* k.waitFor(d);
    k.returned(d);
    if (admit) {
      if (p.admission === "global-lock") {
        rt.lockOwner = -1;
        rt.released();
      } else for (const c of targets.toArray()) releaseOne(c);
    }
  }
  return 0;
}

/** Proposal 5's wait: until `d` is done, run whatever arrives for this CPU (interrupts stay as they are). */
function* pollOwnQueue(rt: PolicyRuntime, d: CallData2008): CpuCode<void> {
  const k = rt.k08;
  const self = rt.system.machine.current;
  const w = k.pollWaits[self];
  while (d.waiting) {
    if (k.hasWorkFor(self)) {
      yield* k.runOwnQueue();
      continue;
    }
    w.data = d;
    yield w;
    w.data = null;
  }
}

/** A CallPolicy of the 2008 design from its proposal. */
function proposal(p: Proposal): CallPolicy {
  return {
    name: p.name,
    description: p.description,
    design: "2008",
    call: (rt, target, fn, wait) => proposalCall(p, rt, target, null, fn, wait),
    callMany: (rt, mask, fn, wait) => proposalCall(p, rt, -1, mask, fn, wait),
  };
}

const naive = proposal({
  name: "naive",
  description: "the 2008 patch: call data allocated per call; when allocation fails, on-stack data and wait",
  admission: "none",
  onlyOnFallback: false,
  poll: false,
});

const globalLock = proposal({
  name: "global-lock",
  description:
    "proposal 1: one global lock serialises the fallback path; callers spin for it with interrupts enabled",
  admission: "global-lock",
  onlyOnFallback: true,
  poll: false,
});

const targetMask = proposal({
  name: "target-mask",
  description:
    "proposal 2: a global mask of current targets under a lock; proceed only if you are not a target and your targets are not in it",
  admission: "target-mask",
  onlyOnFallback: false,
  poll: false,
});

const percpuCounters = proposal({
  name: "percpu-counters",
  description:
    "proposal 3: per-CPU counters of calls targeting each CPU; proceed only if none targets you, so calls to the same target overlap",
  admission: "percpu-counters",
  onlyOnFallback: false,
  poll: false,
});

const maskOnAllocFailure = proposal({
  name: "mask-on-alloc-failure",
  description: "proposal 4: the target mask only when allocation failed; allocated calls proceed freely",
  admission: "target-mask",
  onlyOnFallback: true,
  poll: false,
});

const pollOwnQueuePolicy = proposal({
  name: "poll-own-queue",
  description:
    "proposal 5: on fallback, while waiting, poll your own incoming queue and run what is there (interrupts stay disabled)",
  admission: "none",
  onlyOnFallback: false,
  poll: true,
});

/** Every policy: the 2008 patch, the five proposals (on the 2008 data structures), the modern kernel last. */
export const POLICIES: readonly CallPolicy[] = [
  naive,
  globalLock,
  targetMask,
  percpuCounters,
  maskOnAllocFailure,
  pollOwnQueuePolicy,
  modern,
];

/** A policy by name; throws UsageError listing the policies (only those: `all` is a CLI choice of `explore`). */
export function getPolicy(name: string): CallPolicy {
  const p = POLICIES.find((x) => x.name === name);
  if (!p)
    throw new UsageError(
      `unknown policy "${name}"; choose one of: ${POLICIES.map((x) => x.name).join(", ")}`,
    );
  return p;
}
