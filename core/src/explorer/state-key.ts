import { UsageError } from "../errors";
import { CSD_FLAG_TYPE_MASK } from "../kernel/csd";
import { FRAME_SLOTS, F_LINE } from "../machine/cpu";
import type { Wait } from "../machine/step";
import { CallData2008, PollWait2008 } from "./kernel-2008";
import type { ScenarioContext } from "./scenario";

/**
 * Wait descriptions with their CPU ids renamed, memoised (renaming runs regular expressions; the
 * search meets the same few descriptions millions of times). A description goes into the key as
 * its renamed text with its length in front (`12:CPU 1 spins`), so no description can run into
 * the key's next field, and the key of a state is the same in every worker of a search
 * (numbering descriptions in the order met, as this once did, gave one state different keys in
 * two workers).
 */
export class KeyWords {
  /** `perm id` NUL `description` -> the renamed description as it goes into a key. */
  private readonly renamed = new Map<string, string>();

  /** `text` with its CPU ids renamed by `perm` (`permId` names `perm` for the memo), as it goes into a key. */
  id(text: string, perm: Int32Array | null, permId: string): string {
    const memo = `${permId}\u0000${text}`;
    let id = this.renamed.get(memo);
    if (id !== undefined) return id;
    const r = renameCpus(text, perm);
    id = `${r.length}:${r}`;
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

/** Where a frame's wait key comes from: none, call data, a poll wait, or a description. */
const W_NONE = 0;
const W_DATA = 1;
const W_POLL = 2;
const W_TEXT = 3;

/**
 * A state's key material, gathered once per state: everything no renaming of CPUs changes, so
 * that the key under each renaming of a symmetry group ({@link key}) only renames and
 * assembles (building each renaming's key from scratch was most of a symmetric search's key
 * time; the keys are the same strings).
 *
 * One CPU's part of the key: where its code is (per task program and interrupt handler frame
 * still running, the steps it has taken: see `FrameTracker`; without a tracker, the busy
 * time and interrupts taken stand in), irq state, pending lines, need_resched and the idle
 * loop's polling flags (a sender skips the IPI to a polling CPU), per machine frame (innermost
 * last) its kind, interrupt line and what it waits on, and how many raises each counting line
 * keeps. Every frame's wait counts, not only the innermost one's: a task spinning for admission
 * with an interrupt nested on top is not where a task that has not started yet is.
 */
export class StateKeyBuilder {
  private n = 0;
  private ctx: ScenarioContext | null = null;
  /** Per CPU: its part up to the frames, and the counting lines' raises after them. */
  private readonly head: string[] = [];
  private readonly tail: string[] = [];
  /** Per CPU: its frames' `|kind.line.` texts, the kind of each frame's wait and the wait, and a description's text. */
  private readonly frameText: string[][] = [];
  private readonly waitKind: number[][] = [];
  private readonly waits: (Wait | null)[][] = [];
  private readonly waitText: string[][] = [];
  /** Per CPU: the modern call queue's entries (source, target, type), flat. */
  private readonly queue: number[][] = [];
  /** Pending events (kind, CPU, argument), flat. */
  private readonly events: number[] = [];
  private memory = "";
  /** The stop_machine requests running and waiting (`Machine.stopStateKey`; "" when none). */
  private stop = "";
  /** The clock still reads 0 (the only machine time CPU code decides on: see {@link gather}). */
  private clockZero = false;
  /** A problem that makes the run a violation was reported already (see {@link gather}). */
  private problemSeen = false;
  /** Scratch, reused per key. */
  private readonly evOut: string[] = [];
  /** Per renaming tried: the key's pieces. */
  private readonly outs: (string | null)[][] = [];
  /** Old CPU id at each new position, for the renaming being assembled. */
  private readonly from: number[] = [];

  constructor(private readonly words: KeyWords = new KeyWords()) {}

  /** Gather the state of `ctx` (call before {@link key}; again whenever the state changed). */
  gather(ctx: ScenarioContext): void {
    const { system } = ctx;
    const m = system.machine;
    const n = m.nrCpus;
    this.n = n;
    this.ctx = ctx;
    const frames = ctx.frames;
    for (let cpu = 0; cpu < n; cpu++) {
      const c = m.cpus[cpu];
      this.head[cpu] =
        (frames === undefined ? `${c.busyNs}|${c.irqsTaken}` : frames.key(c.id)) +
        `|${c.irqsDisabled ? 1 : 0}|${c.hardirqDepth}|${c.pendingLines}|${c.needResched ? 1 : 0}${c.polling ? 1 : 0}${c.pollingEndsOnWake ? 1 : 0}${c.trapsHeld ? 1 : 0}${c.online ? 1 : 0}${c.dead ? 1 : 0}`;
      const ft = (this.frameText[cpu] ??= []);
      const wk = (this.waitKind[cpu] ??= []);
      const ws = (this.waits[cpu] ??= []);
      const wt = (this.waitText[cpu] ??= []);
      ft.length = wk.length = ws.length = wt.length = c.depth;
      for (let i = 0; i < c.depth; i++) {
        ft[i] = `|${c.frameKind(i)}.${c.stack[i * FRAME_SLOTS + F_LINE] as number}.`;
        const w = c.frameWait(i);
        ws[i] = w;
        wt[i] = "";
        if (w === null) wk[i] = W_NONE;
        else if (w instanceof CallData2008) wk[i] = W_DATA;
        else if (w instanceof PollWait2008) wk[i] = W_POLL;
        else {
          wk[i] = W_TEXT;
          wt[i] = w.describe();
        }
      }
      // A counting line keeps every raise: how many are pending is state (a latch holds one).
      let tail = "";
      for (let pend = c.pendingLines, line = 0; pend !== 0; pend >>>= 1, line++)
        if ((pend & 1) !== 0) {
          const count = m.pendingCount(cpu, line);
          if (count > 1) tail += `|${line}x${count}`;
        }
      this.tail[cpu] = tail;
      const q = (this.queue[cpu] ??= []);
      q.length = 0;
      for (const e of system.kernel.callSingleQueue.entries(cpu))
        q.push(e.src, e.dst, e.flags & CSD_FLAG_TYPE_MASK);
    }
    const ev = this.events;
    ev.length = 0;
    const h = m.heap;
    for (let i = 0; i < h.size; i++) {
      const id = h.idAt(i);
      if (h.kind(id) !== 0) ev.push(h.kind(id), h.cpu(id), h.arg(id));
    }
    this.memory = system.kernel.memory.stateKey();
    // stop_machine's requests (a CPU taken down, one brought back after them): a request is
    // seen in the CPUs' frames only once a stopper has taken one over, and a waiting one not at
    // all, so without this two states that differ only in a pending hotplug were one.
    this.stop = m.stopStateKey();
    // The idle loop decides on the clock (a CPU that goes idle at t = 0 is asleep already and
    // skips its first polling window); nothing else in an explorer run decides on a time value
    // (docs/explorer.md, "What decides on time"), so this bit is all of time the key needs.
    this.clockZero = m.now === 0;
    // A problem reported during the run (the memory layer's stale reads, a backend's report, a
    // scenario's reportProblem) makes the run a violation whatever follows: it is part of the
    // state, or a run that reported one and then converged with a clean run's state would be
    // pruned there, unchecked (the same hole the call ledger closed). The stuck-csd reports of
    // the CSD lock watchdog are not violations (and the watchdog is off in the explorer).
    let seen = false;
    for (const p of m.problems)
      if (p.kind !== "stuck-csd") {
        seen = true;
        break;
      }
    this.problemSeen = seen;
  }

  /**
   * The key of the gathered state with CPU ids renamed by `perm` (old -> new; null = as they
   * are): per CPU (at its new position) its part (see the class comment); each call queue's
   * entries; the pending events (and `t0` while the clock reads 0); whether a problem was
   * reported; stop_machine's running and waiting requests; the policy's lock, mask, counters
   * and 2008 data structures; the memory layer. `permId` names `perm` for the description memo.
   */
  key(perm: Int32Array | null, permId: string): string {
    const out = this.scratch(0);
    this.pieces(perm, permId, out);
    return this.join(out, perm);
  }

  /**
   * The least key of the gathered state over the renamings of `group` (`ids` name them for the
   * description memo), and which renaming gives it (the first in `group` order): the same
   * result as building every renaming's key and taking the least string, but the keys are
   * compared piece by piece without building them (a symmetric state's renamings mostly
   * differ in their first CPU's part), and only the least one is built.
   */
  canonical(group: readonly Int32Array[], ids: readonly string[]): { key: string; index: number } {
    let best = 0;
    let bestOut = this.scratch(0);
    this.pieces(group[0], ids[0], bestOut);
    for (let i = 1; i < group.length; i++) {
      const out = this.scratch(i);
      this.pieces(group[i], ids[i], out);
      if (this.less(out, group[i], bestOut, group[best])) {
        best = i;
        bestOut = out;
      }
    }
    return { key: this.join(bestOut, group[best]), index: best };
  }

  /** Scratch piece list number `i` (reused between keys). */
  private scratch(i: number): (string | null)[] {
    return (this.outs[i] ??= []);
  }

  /**
   * The key's pieces under `perm`, in order (concatenated, they are the key); the policy
   * runtime's part is left null, to be made only if a comparison or the key needs it.
   */
  private pieces(perm: Int32Array | null, permId: string, out: (string | null)[]): void {
    if (this.ctx === null) throw new Error("StateKeyBuilder: key before gather");
    // Shared-memory data (the memory layer's locations) is keyed as it is, not renamed with the
    // CPUs: under a renaming that would merge states that are not symmetric.
    if (perm !== null && this.memory !== "")
      throw new UsageError(
        `explore: the scenario keeps data in the memory layer, which symmetry reduction cannot rename; run with --no-symmetry (symmetry: false)`,
      );
    const n = this.n;
    const from = this.from;
    for (let cpu = 0; cpu < n; cpu++) from[perm === null ? cpu : perm[cpu]] = cpu;
    out.length = 0;
    for (let j = 0; j < n; j++) {
      const cpu = from[j];
      if (j > 0) out.push(";");
      out.push(this.head[cpu]);
      const ft = this.frameText[cpu];
      const wk = this.waitKind[cpu];
      const ws = this.waits[cpu];
      for (let i = 0; i < ft.length; i++) {
        out.push(ft[i]);
        switch (wk[i]) {
          case W_DATA:
            out.push("d", (ws[i] as CallData2008).key(perm));
            break;
          case W_POLL: {
            const d = (ws[i] as PollWait2008).data;
            out.push("p", d === null ? "" : d.key(perm));
            break;
          }
          case W_TEXT:
            out.push(`w${this.words.id(this.waitText[cpu][i], perm, permId)}`);
            break;
        }
      }
      out.push(this.tail[cpu]);
    }
    out.push(";");
    for (let j = 0; j < n; j++) {
      if (j > 0) out.push(";");
      const q = this.queue[from[j]];
      for (let k = 0; k < q.length; k += 3)
        out.push(`${rename(q[k], perm)}>${rename(q[k + 1], perm)}:${q[k + 2]},`);
    }
    out.push(";");
    const ev = this.events;
    const evs = this.evOut;
    evs.length = 0;
    for (let k = 0; k < ev.length; k += 3) evs.push(`${ev[k]}:${rename(ev[k + 1], perm)}:${ev[k + 2]}`);
    if (evs.length > 1) evs.sort();
    for (let k = 0; k < evs.length; k++) {
      if (k > 0) out.push(",");
      out.push(evs[k]);
    }
    out.push(
      this.clockZero ? ";t0;" : ";",
      this.problemSeen ? "P;" : "",
      this.stop === "" ? "" : `S${this.words.id(this.stop, perm, permId)};`,
      null,
      ";",
      this.memory,
    );
  }

  /** The runtime's part of a piece list under `perm`, made now if it was not yet. */
  private fill(out: (string | null)[], k: number, perm: Int32Array | null): string {
    return (out[k] ??= `${this.ctx!.runtime.stateKey(perm)}#${this.ctx!.ledger.stateKey(perm)}`);
  }

  private join(out: (string | null)[], perm: Int32Array | null): string {
    let s = "";
    for (let k = 0; k < out.length; k++) s += out[k] ?? this.fill(out, k, perm);
    return s;
  }

  /** Is the key of pieces `a` (under `pa`) less than the key of pieces `b` (under `pb`), as strings? */
  private less(
    a: (string | null)[],
    pa: Int32Array | null,
    b: (string | null)[],
    pb: Int32Array | null,
  ): boolean {
    let ia = 0,
      ib = 0,
      oa = 0,
      ob = 0;
    let sa = a.length > 0 ? (a[0] ?? this.fill(a, 0, pa)) : "";
    let sb = b.length > 0 ? (b[0] ?? this.fill(b, 0, pb)) : "";
    for (;;) {
      // Skip ended pieces.
      while (oa === sa.length && ia < a.length) {
        ia++;
        oa = 0;
        sa = ia < a.length ? (a[ia] ?? this.fill(a, ia, pa)) : "";
      }
      while (ob === sb.length && ib < b.length) {
        ib++;
        ob = 0;
        sb = ib < b.length ? (b[ib] ?? this.fill(b, ib, pb)) : "";
      }
      const endA = ia >= a.length;
      const endB = ib >= b.length;
      if (endA || endB) return endA && !endB;
      if (oa === 0 && ob === 0 && sa === sb) {
        // Equal whole pieces: skip both.
        oa = sa.length;
        ob = sb.length;
        continue;
      }
      const ca = sa.charCodeAt(oa);
      const cb = sb.charCodeAt(ob);
      if (ca !== cb) return ca < cb;
      oa++;
      ob++;
    }
  }
}

/** CPU id `c` renamed by `perm` (negative ids, "none", stay). */
function rename(c: number, perm: Int32Array | null): number {
  return perm === null || c < 0 ? c : perm[c];
}

/**
 * A key for the system's state at a choice point, with CPU ids renamed by `perm` (old -> new;
 * null = as they are): see {@link StateKeyBuilder.key}. Interleavings of independent steps that
 * reach the same state get the same key, so the search does not explore their futures twice.
 * `permId` names `perm` for the description memo.
 */
export function stateKey(
  ctx: ScenarioContext,
  words: KeyWords = new KeyWords(),
  perm: Int32Array | null = null,
  permId = perm === null ? "" : perm.join("."),
): string {
  const b = new StateKeyBuilder(words);
  b.gather(ctx);
  return b.key(perm, permId);
}
