import {
  MEMORY_MODELS,
  type AccessOrder,
  type BarrierKind,
  type MemoryChoices,
  type MemoryModelName,
} from "./model";
import { createSharedMemory } from "./create";
import { InvalidArgumentError, describeValue } from "../errors";
import { checkChoice, checkInteger } from "../validate";

/** One instruction of a litmus thread. */
export type LitmusOp =
  | { readonly op: "store"; readonly loc: string; readonly value: number; readonly order?: AccessOrder }
  | { readonly op: "load"; readonly loc: string; readonly reg: string; readonly order?: AccessOrder }
  | { readonly op: "barrier"; readonly kind: BarrierKind };

/** A litmus test: threads of loads, stores and barriers over locations that start at 0. */
export interface LitmusTest {
  /** Name, e.g. "MP+wmb+rmb". */
  readonly name: string;
  /** One instruction list per CPU. */
  readonly threads: readonly (readonly LitmusOp[])[];
  /** The outcome the test is about, as `outcomeKey` writes it (e.g. "r0=1 r1=0"). */
  readonly weakOutcome: string;
  /** Whether each model allows `weakOutcome`, as kernel-smp.md §12 says (LKMM; x86-TSO). */
  readonly allowedBy: { readonly sc: false; readonly tso: boolean; readonly lkmm: boolean };
}

/** The result of running every execution of a litmus test under one model. */
export interface LitmusResult {
  /** Outcome → how many executions ended with it. */
  readonly outcomes: ReadonlyMap<string, number>;
  /** Executions explored (every combination of schedule and memory choices). */
  readonly executions: number;
}

/** Registers sorted by name, as "r0=1 r1=0". */
export function outcomeKey(regs: ReadonlyMap<string, number>): string {
  return [...regs.keys()]
    .sort()
    .map((r) => `${r}=${regs.get(r)}`)
    .join(" ");
}

/** Replays a prefix of choices, then takes option 0; records how many options each choice had. */
class ExhaustiveChoices implements MemoryChoices {
  readonly picked: number[] = [];
  readonly options: number[] = [];
  constructor(private readonly prefix: readonly number[]) {}
  chooseInt(n: number): number {
    const i = this.picked.length;
    const k = i < this.prefix.length ? this.prefix[i] : 0;
    this.picked.push(k);
    this.options.push(n);
    return k;
  }
  /** The next prefix in depth-first order, or null when every execution was explored. */
  next(): number[] | null {
    for (let i = this.picked.length - 1; i >= 0; i--) {
      if (this.picked[i] + 1 < this.options[i]) return [...this.picked.slice(0, i), this.picked[i] + 1];
    }
    return null;
  }
}

/**
 * Runs every execution of `test` under `model`: every interleaving of the threads' instructions,
 * every drain order of store buffers (tso), and under lkmm every store a load may read and every
 * store run ahead of unordered earlier loads (load->store reordering: load buffering). Returns the
 * final register values reached and how often.
 */
export function runLitmus(test: LitmusTest, model: MemoryModelName, maxExecutions = 1_000_000): LitmusResult {
  if (
    typeof test !== "object" ||
    test === null ||
    typeof test.name !== "string" ||
    !Array.isArray(test.threads)
  )
    throw new InvalidArgumentError(
      `runLitmus: test must be a LitmusTest ({ name, threads, weakOutcome, allowedBy }, e.g. from LITMUS_TESTS), got ${describeValue(test)}`,
    );
  checkChoice("runLitmus: model", model, MEMORY_MODELS);
  checkInteger("runLitmus: maxExecutions", maxExecutions, 1, Number.MAX_SAFE_INTEGER);
  if (test.threads.some((t) => !Array.isArray(t) || t.length > MAX_OPS))
    throw new InvalidArgumentError(
      `runLitmus: test ${test.name}: each thread must be a list of at most ${MAX_OPS} instructions`,
    );
  const outcomes = new Map<string, number>();
  let prefix: number[] | null = [];
  let executions = 0;
  while (prefix !== null) {
    if (++executions > maxExecutions) {
      throw new RangeError(`litmus ${test.name} under ${model}: more than ${maxExecutions} executions`);
    }
    const choices: ExhaustiveChoices = new ExhaustiveChoices(prefix);
    const key = runOnce(test, model, choices);
    outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
    prefix = choices.next();
  }
  return { outcomes, executions };
}

function runOnce(test: LitmusTest, model: MemoryModelName, choices: ExhaustiveChoices): string {
  const n = test.threads.length;
  const mem = createSharedMemory(model, n, choices);
  const locs = new Map<string, number>();
  for (const t of test.threads)
    for (const op of t)
      if (op.op !== "barrier" && !locs.has(op.loc)) locs.set(op.loc, mem.location(op.loc, 0));
  const regs = new Map<string, number>();
  const pc = new Array<number>(n).fill(0);
  // Instructions executed ahead of their turn (lkmm's load->store reordering), per CPU.
  const doneEarly = test.threads.map((t) => new Array<boolean>(t.length).fill(false));
  const actions: number[] = [];
  for (;;) {
    // Actions: step CPU i (i); drain one buffered store of CPU i (n + i); under lkmm, run the
    // store at index j of CPU i ahead of the loads before it (2n + i * MAX_OPS + j).
    actions.length = 0;
    for (let i = 0; i < n; i++) {
      while (pc[i] < test.threads[i].length && doneEarly[i][pc[i]]) pc[i]++;
      if (pc[i] < test.threads[i].length) actions.push(i);
    }
    for (let i = 0; i < n; i++) if (mem.pendingDrains(i) > 0) actions.push(n + i);
    if (model === "lkmm")
      for (let i = 0; i < n; i++)
        for (const j of hoistableStores(test.threads[i], pc[i], doneEarly[i]))
          actions.push(2 * n + i * MAX_OPS + j);
    if (actions.length === 0) break;
    const a = actions[actions.length > 1 ? choices.chooseInt(actions.length) : 0];
    if (a >= 2 * n) {
      const cpu = Math.floor((a - 2 * n) / MAX_OPS);
      const j = (a - 2 * n) % MAX_OPS;
      const op = test.threads[cpu][j] as Extract<LitmusOp, { op: "store" }>;
      doneEarly[cpu][j] = true;
      mem.store(cpu, locs.get(op.loc)!, op.value, op.order);
      continue;
    }
    if (a >= n) {
      mem.drainOne(a - n);
      continue;
    }
    const op = test.threads[a][pc[a]++];
    if (op.op === "store") mem.store(a, locs.get(op.loc)!, op.value, op.order);
    else if (op.op === "load") regs.set(op.reg, mem.load(a, locs.get(op.loc)!, op.order));
    else mem.barrier(a, op.kind);
  }
  return outcomeKey(regs);
}

/** Instructions per litmus thread the action encoding allows. */
const MAX_OPS = 64;

/**
 * LKMM lets a CPU perform a store before earlier loads of other locations when nothing orders
 * them (no barrier, no acquire load, not a release store, no dependency: litmus stores write
 * constants). The stores of `thread` that may run now, ahead of the instruction at `pc`: only
 * loads (not yet run) stand between, none to the store's location. Conservative: a store is
 * never moved past a barrier or another store.
 */
function hoistableStores(thread: readonly LitmusOp[], pc: number, doneEarly: readonly boolean[]): number[] {
  const out: number[] = [];
  const loaded = new Set<string>();
  for (let j = pc; j < thread.length; j++) {
    if (doneEarly[j]) continue;
    const op = thread[j];
    if (op.op === "barrier") break;
    if (op.op === "load") {
      if (op.order === "acquire") break;
      loaded.add(op.loc);
      continue;
    }
    if (j > pc && op.order !== "release" && !loaded.has(op.loc)) out.push(j);
    break; // never past another store
  }
  return out;
}

const st = (loc: string, order?: AccessOrder): LitmusOp => ({ op: "store", loc, value: 1, order });
const ld = (loc: string, reg: string, order?: AccessOrder): LitmusOp => ({ op: "load", loc, reg, order });
const fence = (kind: BarrierKind): LitmusOp => ({ op: "barrier", kind });

/**
 * The litmus shapes of kernel-smp.md §12 (message passing, store buffering, load buffering),
 * plain and with the orderings that forbid their weak outcomes, with the verdicts §12 gives.
 */
export const LITMUS_TESTS: readonly LitmusTest[] = [
  {
    name: "MP",
    threads: [
      [st("x"), st("y")],
      [ld("y", "r0"), ld("x", "r1")],
    ],
    weakOutcome: "r0=1 r1=0",
    allowedBy: { sc: false, tso: false, lkmm: true },
  },
  {
    name: "MP+wmb+rmb",
    threads: [
      [st("x"), fence("wmb"), st("y")],
      [ld("y", "r0"), fence("rmb"), ld("x", "r1")],
    ],
    weakOutcome: "r0=1 r1=0",
    allowedBy: { sc: false, tso: false, lkmm: false },
  },
  {
    name: "MP+wmb",
    threads: [
      [st("x"), fence("wmb"), st("y")],
      [ld("y", "r0"), ld("x", "r1")],
    ],
    weakOutcome: "r0=1 r1=0",
    allowedBy: { sc: false, tso: false, lkmm: true },
  },
  {
    name: "MP+rmb",
    threads: [
      [st("x"), st("y")],
      [ld("y", "r0"), fence("rmb"), ld("x", "r1")],
    ],
    weakOutcome: "r0=1 r1=0",
    allowedBy: { sc: false, tso: false, lkmm: true },
  },
  {
    name: "MP+release+acquire",
    threads: [
      [st("x"), st("y", "release")],
      [ld("y", "r0", "acquire"), ld("x", "r1")],
    ],
    weakOutcome: "r0=1 r1=0",
    allowedBy: { sc: false, tso: false, lkmm: false },
  },
  {
    name: "SB",
    threads: [
      [st("x"), ld("y", "r0")],
      [st("y"), ld("x", "r1")],
    ],
    weakOutcome: "r0=0 r1=0",
    allowedBy: { sc: false, tso: true, lkmm: true },
  },
  {
    name: "SB+mb",
    threads: [
      [st("x"), fence("mb"), ld("y", "r0")],
      [st("y"), fence("mb"), ld("x", "r1")],
    ],
    weakOutcome: "r0=0 r1=0",
    allowedBy: { sc: false, tso: false, lkmm: false },
  },
  {
    name: "LB",
    threads: [
      [ld("x", "r0"), st("y")],
      [ld("y", "r1"), st("x")],
    ],
    weakOutcome: "r0=1 r1=1",
    allowedBy: { sc: false, tso: false, lkmm: true },
  },
  {
    name: "LB+acquire+release",
    threads: [
      [ld("x", "r0", "acquire"), st("y", "release")],
      [ld("y", "r1", "acquire"), st("x", "release")],
    ],
    weakOutcome: "r0=1 r1=1",
    allowedBy: { sc: false, tso: false, lkmm: false },
  },
];
