import { CSD_FLAG_LOCK, CSD_TYPE_SYNC, type CallSingleData, type SmpCallFunc } from "../kernel/csd";
import { CpuMask } from "../machine/cpumask";
import type { CpuCode } from "../machine/step";
import { WaitChannel } from "../machine/step";
import type { SmpSystem } from "../system";
import { UsageError } from "../errors";

/**
 * The shared state of the 2008 proposals on one machine: the global lock, the global mask of
 * current targets, the per-CPU counters, and what they cost.
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
  /** Per CPU: what a poll-own-queue waiter spins on. */
  readonly pollWaits: PollOwnQueueWait[];

  constructor(
    readonly system: SmpSystem,
    allocFailRate = 1,
  ) {
    const n = system.machine.nrCpus;
    this.allocFailRate = allocFailRate;
    this.targets = new CpuMask(n);
    this.targetCount = new Int32Array(n);
    this.pollWaits = Array.from({ length: n }, (_, cpu) => new PollOwnQueueWait(system, cpu));
    this.admission = Array.from({ length: n }, () => new AdmissionChannel());
    system.kernel.onQueueAdd = (cpu) => {
      const w = this.pollWaits[cpu];
      if (w.firstWaiter !== -1) system.machine.wake(w);
    };
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

/** A waiter that polls its own queue: blocked while its csd is locked and its own queue is empty. */
export class PollOwnQueueWait extends WaitChannel {
  csd: CallSingleData | null = null;
  constructor(
    private readonly system: SmpSystem,
    private readonly cpu: number,
  ) {
    super();
  }
  override get isCsdWait(): boolean {
    return true;
  }
  blocked(): boolean {
    return this.csd !== null && this.csd.locked && this.system.kernel.callSingleQueue.isEmpty(this.cpu);
  }
  override addWaiter(cpu: number): void {
    super.addWaiter(cpu);
    this.csd?.addWaiter(cpu);
  }
  describe(): string {
    return `${this.csd?.describe() ?? "nothing"} (polling its own queue)`;
  }
  override holderCpu(): number {
    return this.csd?.dst ?? -1;
  }
}

/**
 * A call-data design: how `smp_call_function_single(target, fn, info, wait)` gets its call data
 * and waits. The explorer compares them on the same scenarios.
 */
export interface CallPolicy {
  readonly name: string;
  readonly description: string;
  /** smp_call_function_single(target, fn, null, wait) under this design; returns 0 or a negated errno. */
  call(rt: PolicyRuntime, target: number, fn: SmpCallFunc, wait: boolean): CpuCode<number>;
}

/** The 2008 fallback: call data on the stack, so the caller must wait for the callback. */
function* onStackAndWait(rt: PolicyRuntime, target: number, fn: SmpCallFunc): CpuCode<number> {
  rt.fallbacks++;
  return yield* rt.system.kernel.smpCallFunctionSingle(target, fn, null, true);
}

/** Allocated call data: fire and forget (freed later, after a grace period). */
function* allocated(rt: PolicyRuntime, target: number, fn: SmpCallFunc): CpuCode<number> {
  return yield* rt.system.kernel.smpCallFunctionSingleAsync(target, rt.system.kernel.initCsd(fn, null));
}

/** Wrap `fn` so `done` runs after it. */
function then(fn: SmpCallFunc, done: () => void): SmpCallFunc {
  const wrapped: SmpCallFunc = (info, cpu) => {
    const r = fn(info, cpu);
    if (r && typeof (r as Generator).next === "function") {
      return (function* () {
        yield* r;
        done();
      })();
    }
    done();
    return undefined;
  };
  Object.defineProperty(wrapped, "name", { value: fn.name || "anonymous" });
  return wrapped;
}

const modern: CallPolicy = {
  name: "modern",
  description:
    "per-CPU call data with a CSD lock, as the kernel does today: no allocation, a no-wait call never waits for the callback",
  *call(rt, target, fn, wait) {
    return yield* rt.system.kernel.smpCallFunctionSingle(target, fn, null, wait);
  },
};

const naive: CallPolicy = {
  name: "naive",
  description: "the 2008 patch: call data allocated per call; when allocation fails, on-stack data and wait",
  *call(rt, target, fn, wait) {
    if (wait || rt.allocFails()) return yield* onStackAndWait(rt, target, fn);
    return yield* allocated(rt, target, fn);
  },
};

const globalLock: CallPolicy = {
  name: "global-lock",
  description:
    "proposal 1: one global lock serialises the fallback path; callers spin for it with interrupts enabled",
  *call(rt, target, fn, wait) {
    if (!wait && !rt.allocFails()) return yield* allocated(rt, target, fn);
    const self = rt.system.machine.current;
    yield* rt.admitWhen(
      "the global fallback lock",
      () => rt.lockOwner === -1,
      () => (rt.lockOwner = self),
    );
    const ret = yield* onStackAndWait(rt, target, fn);
    rt.lockOwner = -1;
    rt.released();
    return ret;
  },
};

/** Proposals 2 and 4: admission by the global mask of current targets. */
function* maskAdmitted(
  rt: PolicyRuntime,
  target: number,
  fn: SmpCallFunc,
  fallback: boolean,
): CpuCode<number> {
  const self = rt.system.machine.current;
  yield* rt.admitWhen(
    `the global target mask (CPU ${self} or ${target} targeted)`,
    () => !rt.targets.test(self) && !rt.targets.test(target),
    () => rt.targets.set(target),
  );
  return yield* callThenRelease(rt, target, fn, fallback, () => {
    rt.targets.clear(target);
    rt.released();
  });
}

/** An admitted call: on-stack and wait (then release), or allocated with `release` run after its callback. */
function* callThenRelease(
  rt: PolicyRuntime,
  target: number,
  fn: SmpCallFunc,
  fallback: boolean,
  release: () => void,
): CpuCode<number> {
  if (fallback) {
    const ret = yield* onStackAndWait(rt, target, fn);
    release();
    return ret;
  }
  return yield* rt.system.kernel.smpCallFunctionSingleAsync(
    target,
    rt.system.kernel.initCsd(then(fn, release), null),
  );
}

const targetMask: CallPolicy = {
  name: "target-mask",
  description:
    "proposal 2: a global mask of current targets under a lock; proceed only if you are not a target and your target is not in it",
  *call(rt, target, fn, wait) {
    return yield* maskAdmitted(rt, target, fn, wait || rt.allocFails());
  },
};

const percpuCounters: CallPolicy = {
  name: "percpu-counters",
  description:
    "proposal 3: per-CPU counters of calls targeting each CPU; proceed only if none targets you, so calls to the same target overlap",
  *call(rt, target, fn, wait) {
    const self = rt.system.machine.current;
    const fallback = wait || rt.allocFails();
    yield* rt.admitWhen(
      `the per-CPU target counters (CPU ${self} is a target)`,
      () => rt.targetCount[self] === 0,
      () => rt.targetCount[target]++,
    );
    return yield* callThenRelease(rt, target, fn, fallback, () => {
      rt.targetCount[target]--;
      rt.released();
    });
  },
};

const maskOnAllocFailure: CallPolicy = {
  name: "mask-on-alloc-failure",
  description: "proposal 4: the target mask only when allocation failed; allocated calls proceed freely",
  *call(rt, target, fn, wait) {
    if (!wait && !rt.allocFails()) return yield* allocated(rt, target, fn);
    return yield* maskAdmitted(rt, target, fn, true);
  },
};

const pollOwnQueue: CallPolicy = {
  name: "poll-own-queue",
  description:
    "proposal 5: on fallback, while waiting, poll your own incoming queue and run what is there (interrupts stay disabled)",
  *call(rt, target, fn, wait) {
    if (!wait && !rt.allocFails()) return yield* allocated(rt, target, fn);
    rt.fallbacks++;
    const k = rt.system.kernel;
    const m = rt.system.machine;
    const self = m.current;
    // On-stack call data of a waiting call: SYNC, so it is unlocked only after the callback returned.
    const csd = k.initCsd(fn, null);
    csd.flags = CSD_FLAG_LOCK | CSD_TYPE_SYNC;
    csd.src = self;
    csd.dst = target;
    yield* k.smpCallSingleQueue(target, csd, "smp_call_function_single");
    const w = rt.pollWaits[self];
    while (csd.locked) {
      if (!k.callSingleQueue.isEmpty(self)) {
        yield* k.flushSmpCallFunctionQueue();
        continue;
      }
      w.csd = csd;
      yield w;
      w.csd = null;
    }
    return 0;
  },
};

/** Every policy, the modern kernel last. */
export const POLICIES: readonly CallPolicy[] = [
  naive,
  globalLock,
  targetMask,
  percpuCounters,
  maskOnAllocFailure,
  pollOwnQueue,
  modern,
];

/** A policy by name; throws UsageError listing the choices. */
export function getPolicy(name: string): CallPolicy {
  const p = POLICIES.find((x) => x.name === name);
  if (!p)
    throw new UsageError(
      `unknown policy "${name}"; choose one of: ${POLICIES.map((x) => x.name).join(", ")}, or all`,
    );
  return p;
}
