import type { CpuCode, Step } from "../machine/step";
import type { SmpSystem } from "../system";

/** What the tracker knows of one running frame: how far its code has got. */
export interface FrameProgress {
  /** `t` a task program, `i` an interrupt handler. */
  readonly kind: "t" | "i";
  /** Steps (costs, not waits) the frame's code has yielded. */
  steps: number;
  /** The sum of their costs (ns): the frame's own busy time. */
  ns: number;
  /**
   * A 64-bit hash (two 32-bit halves) of the frame's step costs in order: two paths through
   * the code that took steps of the same count and sum in another order are at different
   * places.
   */
  h1: number;
  h2: number;
}

/** `p`'s order hash with `x` (a step's cost) mixed in. */
function mix(p: FrameProgress, x: number): void {
  const lo = x | 0;
  const hi = Math.floor(x / 4294967296) | 0;
  p.h1 = Math.imul(p.h1 ^ lo, 0x9e3779b1) ^ hi;
  p.h1 ^= p.h1 >>> 15;
  p.h2 = Math.imul(p.h2 ^ lo, 0x85ebca77) + Math.imul(hi, 0xc2b2ae3d);
  p.h2 ^= p.h2 >>> 13;
}

function isGeneratorObject(x: unknown): x is CpuCode<unknown> {
  return typeof x === "object" && x !== null && typeof (x as Generator).next === "function";
}

/**
 * Where each CPU's code is, for the explorer's state key: per CPU, for each task program and
 * interrupt handler frame still running (innermost last), the cost steps its code has taken,
 * their sum (the frame's own busy time) and a hash of their costs in order. A generator's
 * position cannot be read; its own steps stand in for it, and unlike the CPU's busy time they
 * do not mix in what interrupt handlers cost, nor miss steps of cost 0; a finished interrupt
 * handler leaves no trace (its effects are in the shared state). Count and sum alone are not
 * enough: a program that took steps of 40, 100 and 40 ns and one that took 40, 40 and 100 can
 * be at different places (docs/explorer.md, "where a program is"). Waits are not counted:
 * where a frame waits is in the key itself, and a spin loop that yields its wait again has not
 * moved (where a wait was passed between two steps is not keyed either: see the same
 * section). A busy wait (`Wait.countsAsBusy`: a hypercall whose length hardware decides) is
 * counted as a step. Installed on a system before its programs are spawned; it wraps each
 * program and each interrupt handler in a generator that counts.
 */
export class FrameTracker {
  /** Per CPU: the running tracked frames, innermost last. */
  readonly frames: FrameProgress[][];

  constructor(private readonly system: SmpSystem) {
    const m = system.machine;
    this.frames = Array.from({ length: m.nrCpus }, () => []);
    const spawn = m.spawn.bind(m);
    m.spawn = (cpu: number, code: CpuCode<unknown>) =>
      spawn(
        cpu,
        isGeneratorObject(code) && this.frames[cpu] !== undefined ? this.track(cpu, code, "t") : code,
      );
    const arch = system.arch as { handleInterrupt(cpu: number, line: number): CpuCode<void> };
    const handle = arch.handleInterrupt.bind(arch);
    arch.handleInterrupt = (cpu: number, line: number) => {
      const h = handle(cpu, line);
      return isGeneratorObject(h) ? this.track<void>(cpu, h, "i") : h;
    };
  }

  /** `code`, counted as a frame of `cpu`. */
  private *track<T>(cpu: number, code: CpuCode<T>, kind: "t" | "i"): CpuCode<T> {
    const stack = this.frames[cpu];
    const p: FrameProgress = { kind, steps: 0, ns: 0, h1: 0, h2: 0 };
    let pushed = false;
    try {
      for (;;) {
        const r = code.next();
        if (r.done === true) return r.value;
        const v: Step = r.value;
        if (!pushed) {
          stack.push(p);
          pushed = true;
        }
        if (typeof v === "number") {
          p.steps++;
          p.ns += v;
          mix(p, v);
        } else if (v.countsAsBusy === true) {
          // A busy wait is a step whose length hardware decides (a hypercall): the code moved.
          p.steps++;
        }
        yield v;
      }
    } finally {
      if (pushed) stack.splice(stack.lastIndexOf(p), 1);
    }
  }

  /**
   * The progress of `cpu`'s frames as a key part: the tracked frames that have taken a step,
   * innermost last, each with its kind (a frame not started yet has no entry; the machine's
   * frame list in the key says it is there).
   */
  key(cpu: number): string {
    let s = "";
    for (const p of this.frames[cpu])
      s += `${p.kind}${p.steps}.${p.ns}.${(p.h1 >>> 0).toString(36)}.${(p.h2 >>> 0).toString(36)}/`;
    return s;
  }
}
