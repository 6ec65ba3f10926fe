import { UsageError } from "../errors";
import { CSD_FLAG_TYPE_MASK } from "../kernel/csd";
import { FRAME_SLOTS, F_LINE, type Cpu } from "../machine/cpu";
import type { Wait } from "../machine/step";
import type { FrameTracker } from "./frame-tracker";
import { CallData2008, PollWait2008 } from "./kernel-2008";
import type { ScenarioContext } from "./scenario";

/**
 * Interned wait descriptions (and their renamings), so state keys stay short: the search keeps
 * millions of them.
 */
export class KeyWords {
  /** Description (after renaming) -> short id. */
  readonly ids = new Map<string, number>();
  /** `perm id` NUL `description` -> short id of the renamed description. */
  private readonly renamed = new Map<string, number>();

  /** The id of `text` with its CPU ids renamed by `perm` (`permId` names `perm` for the memo). */
  id(text: string, perm: Int32Array | null, permId: string): number {
    const memo = `${permId}\u0000${text}`;
    let id = this.renamed.get(memo);
    if (id !== undefined) return id;
    const r = renameCpus(text, perm);
    id = this.ids.get(r);
    if (id === undefined) this.ids.set(r, (id = this.ids.size));
    this.renamed.set(memo, id);
    return id;
  }
}

/** Parse a CPU list as CpuMask prints it (`0,2-3`). */
function parseCpuList(text: string): number[] {
  const out: number[] = [];
  for (const part of text.split(",")) {
    const [a, b] = part.split("-").map(Number);
    for (let c = a; c <= (b ?? a); c++) out.push(c);
  }
  return out;
}

/**
 * A wait description with its CPU ids renamed by `perm` (old -> new): `CPU n`, `CPUs a,b-c`, `or n`,
 * `one of a,b`, a scenario callback `call_<cpu>_<k>`; call-data sequence numbers (`csd#12`)
 * are dropped (they count allocations, not state).
 */
export function renameCpus(text: string, perm: Int32Array | null): string {
  const t = text.replace(/csd#\d+/g, "csd");
  if (perm === null) return t;
  const list = (s: string) =>
    parseCpuList(s)
      .map((c) => (c < perm.length ? perm[c] : c))
      .sort((a, b) => a - b)
      .join(".");
  return t
    .replace(/\b(CPUs?|one of|or) (\d+(?:[,-]\d+)*)/g, (_m, w: string, l: string) => `${w} ${list(l)}`)
    .replace(/\bcall_(\d+)_/g, (_m, c: string) => `call_${perm[Number(c)] ?? c}_`);
}

/** The key of what a frame waits on, CPU ids renamed by `perm`. */
function waitKey(w: Wait | null, perm: Int32Array | null, permId: string, words: KeyWords): string {
  if (w === null) return "";
  if (w instanceof CallData2008) return `d${w.key(perm)}`;
  if (w instanceof PollWait2008) return `p${w.data === null ? "" : w.data.key(perm)}`;
  return `w${words.id(w.describe(), perm, permId)}`;
}

/**
 * One CPU's part of the key: where its code is (per task program and interrupt handler frame
 * still running, the steps it has taken: see {@link FrameTracker}; without a tracker, the busy
 * time and interrupts taken stand in), irq state, pending lines, need_resched and the idle
 * loop's polling flags (a sender skips the IPI to a polling CPU), and per machine frame
 * (innermost last) its kind, interrupt line and what it waits on. Every frame's wait counts, not
 * only the innermost one's: a task spinning for admission with an interrupt nested on top is
 * not where a task that has not started yet is.
 */
function cpuKey(
  c: Cpu,
  frames: FrameTracker | undefined,
  perm: Int32Array | null,
  permId: string,
  words: KeyWords,
): string {
  let s = frames === undefined ? `${c.busyNs}|${c.irqsTaken}` : frames.key(c.id);
  s += `|${c.irqsDisabled ? 1 : 0}|${c.hardirqDepth}|${c.pendingLines}|${c.needResched ? 1 : 0}${c.polling ? 1 : 0}${c.pollingEndsOnWake ? 1 : 0}`;
  for (let i = 0; i < c.depth; i++)
    s += `|${c.frameKind(i)}.${c.stack[i * FRAME_SLOTS + F_LINE] as number}.${waitKey(c.frameWait(i), perm, permId, words)}`;
  return s;
}

/**
 * A key for the system's state at a choice point, with CPU ids renamed by `perm` (old -> new;
 * null = as they are): per CPU (at its new position) its part (see `cpuKey`); each call queue's
 * entries; the pending events; the policy's lock, mask, counters and 2008 data structures.
 * Interleavings of independent steps that reach the same state get the same key, so the search
 * does not explore their futures twice. `permId` names `perm` for the description memo.
 */
export function stateKey(
  ctx: ScenarioContext,
  words: KeyWords = new KeyWords(),
  perm: Int32Array | null = null,
  permId = perm === null ? "" : perm.join("."),
): string {
  const { system, runtime } = ctx;
  const m = system.machine;
  const n = m.nrCpus;
  const name = (c: number) => (perm === null || c < 0 ? c : perm[c]);
  const cpus = new Array<string>(n);
  const queues = new Array<string>(n);
  for (let cpu = 0; cpu < n; cpu++) {
    let key = cpuKey(m.cpus[cpu], ctx.frames, perm, permId, words);
    // A counting line keeps every raise: how many are pending is state (a latch holds one).
    for (let pend = m.cpus[cpu].pendingLines, line = 0; pend !== 0; pend >>>= 1, line++)
      if ((pend & 1) !== 0) {
        const count = m.pendingCount(cpu, line);
        if (count > 1) key += `|${line}x${count}`;
      }
    cpus[name(cpu)] = key;
    let q = "";
    for (const e of system.kernel.callSingleQueue.entries(cpu))
      q += `${name(e.src)}>${name(e.dst)}:${e.flags & CSD_FLAG_TYPE_MASK},`;
    queues[name(cpu)] = q;
  }
  const ev: string[] = [];
  const h = m.heap;
  for (let i = 0; i < h.size; i++) {
    const id = h.idAt(i);
    if (h.kind(id) !== 0) ev.push(`${h.kind(id)}:${name(h.cpu(id))}:${h.arg(id)}`);
  }
  // Shared-memory data (the memory layer's locations) is keyed as it is, not renamed with the
  // CPUs: under a renaming that would merge states that are not symmetric.
  const memory = system.kernel.memory.stateKey();
  if (perm !== null && memory !== "")
    throw new UsageError(
      `explore: the scenario keeps data in the memory layer, which symmetry reduction cannot rename; run with --no-symmetry (symmetry: false)`,
    );
  return `${cpus.join(";")};${queues.join(";")};${ev.sort().join(",")};${runtime.stateKey(perm)};${memory}`;
}
