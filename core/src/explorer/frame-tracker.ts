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
}

function isGeneratorObject(x: unknown): x is CpuCode<unknown> {
  return typeof x === "object" && x !== null && typeof (x as Generator).next === "function";
}

/**
 * Where each CPU's code is, for the explorer's state key: per CPU, for each task program and
 * interrupt handler frame still running (innermost last), the cost steps its code has taken
 * and their sum (the frame's own busy time). A generator's position cannot be read; its own
 * steps stand in for it, and unlike the CPU's busy time they do not mix in what interrupt
 * handlers cost, nor miss steps of cost 0; a finished interrupt handler leaves no trace (its
 * effects are in the shared state). Waits are not counted: where a frame waits is in the key
 * itself, and a spin loop that yields its wait again has not moved. A busy wait
 * (`Wait.countsAsBusy`: a hypercall whose length hardware decides) is counted as a step. Installed on a system before its programs are spawned; it wraps each program and each
 * interrupt handler in a generator that counts.
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
    const p: FrameProgress = { kind, steps: 0, ns: 0 };
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
    for (const p of this.frames[cpu]) s += `${p.kind}${p.steps}.${p.ns}/`;
    return s;
  }
}
