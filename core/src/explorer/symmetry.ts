import { UsageError } from "../errors";
import type { ScenarioContext } from "./scenario";
import { KeyWords, StateKeyBuilder } from "./state-key";

/**
 * A scenario's symmetry: renaming its CPUs by any rotation (`c -> c + r mod n`), or by any
 * permutation, maps each of its runs to a run of the same scenario (the CPUs' programs are the
 * same up to the renaming). `none`: no symmetry used.
 */
export type Symmetry = "none" | "rotation" | "permutation";

/** Above this many CPUs a permutation-symmetric key sorts CPUs instead of trying all n! renamings. */
const MAX_ENUMERATED_CPUS = 4;
/** Renamings tried at most among CPUs whose own parts tie after sorting. */
const MAX_TIE_RENAMINGS = 24;

/** All permutations of 0..n-1 as arrays (old -> new). */
function permutations(n: number): Int32Array[] {
  const out: Int32Array[] = [];
  const p = Int32Array.from({ length: n }, (_, i) => i);
  const rec = (k: number) => {
    if (k === n) {
      out.push(p.slice());
      return;
    }
    for (let i = k; i < n; i++) {
      [p[k], p[i]] = [p[i], p[k]];
      rec(k + 1);
      [p[k], p[i]] = [p[i], p[k]];
    }
  };
  rec(0);
  return out;
}

/**
 * Keys states canonically under a symmetry group: the least key over the renamings of the
 * group (for permutations of more than 4 CPUs, over the renamings that sort the CPUs by their
 * own parts, ties tried up to 24 ways). Equal canonical keys mean states that are renamings of
 * each other; {@link perm} is the renaming the last key used, so the search renames what it
 * stores with the state (the CPU last to run) the same way (there are no sleep sets).
 */
export class CanonicalKeyer {
  /** The renaming (old -> new) of the last {@link key}; identity for no symmetry. */
  perm: Int32Array;
  private readonly group: Int32Array[] | null;
  private readonly groupIds: string[];
  private readonly identity: Int32Array;
  /** Gathers a state once for all its renamings. */
  private readonly builder: StateKeyBuilder;

  constructor(
    readonly symmetry: Symmetry,
    readonly cpus: number,
    /** Renamed wait descriptions, memoised (shared with the state cache). */
    readonly words: KeyWords = new KeyWords(),
  ) {
    if (!["none", "rotation", "permutation"].includes(symmetry))
      throw new UsageError(`unknown symmetry "${String(symmetry)}": expected none, rotation or permutation`);
    this.builder = new StateKeyBuilder(words);
    this.identity = Int32Array.from({ length: cpus }, (_, i) => i);
    this.perm = this.identity;
    if (symmetry === "rotation")
      this.group = Array.from({ length: cpus }, (_, r) =>
        Int32Array.from({ length: cpus }, (_, c) => (c + r) % cpus),
      );
    else if (symmetry === "permutation" && cpus <= MAX_ENUMERATED_CPUS) this.group = permutations(cpus);
    else this.group = null;
    this.groupIds = (this.group ?? []).map((p) => p.join("."));
  }

  /** The canonical key of the state of `ctx`; sets {@link perm}. */
  key(ctx: ScenarioContext): string {
    const b = this.builder;
    b.gather(ctx);
    if (this.symmetry === "none") return b.key(null, "");
    const group = this.group ?? this.sortingRenamings(ctx);
    const ids = this.group === null ? group.map((p) => p.join(".")) : this.groupIds;
    const { key, index } = b.canonical(group, ids);
    this.perm = group[index];
    return key;
  }

  /**
   * Permutations of many CPUs: sort the CPUs by their own part of the key with CPU numbers
   * blanked (what no renaming changes), then try the orders of tied CPUs, up to a limit. Every
   * result is a renaming, so the key is always a valid name of the state; ties beyond the limit
   * only cost reduction, never soundness.
   */
  private sortingRenamings(ctx: ScenarioContext): Int32Array[] {
    const m = ctx.system.machine;
    const n = m.nrCpus;
    const sig: string[] = [];
    for (let c = 0; c < n; c++) {
      const cpu = m.cpus[c];
      let s = `${ctx.frames?.key(c) ?? `${cpu.busyNs}|${cpu.irqsTaken}`}|${cpu.irqsDisabled ? 1 : 0}|${cpu.hardirqDepth}|${cpu.pendingLines}|${cpu.depth}`;
      for (let i = 0; i < cpu.depth; i++) {
        const w = cpu.frameWait(i);
        s += `|${cpu.frameKind(i)}:${w === null ? "" : w.constructor.name}`;
      }
      sig.push(s);
    }
    const order = Array.from({ length: n }, (_, i) => i).sort((a, b) =>
      sig[a] < sig[b] ? -1 : sig[a] > sig[b] ? 1 : a - b,
    );
    // Groups of tied CPUs (consecutive in `order`).
    const groups: number[][] = [];
    for (const c of order) {
      const g = groups[groups.length - 1];
      if (g !== undefined && sig[g[0]] === sig[c]) g.push(c);
      else groups.push([c]);
    }
    const out: Int32Array[] = [];
    const rec = (gi: number, pos: number, acc: Int32Array) => {
      if (out.length >= MAX_TIE_RENAMINGS) return;
      if (gi === groups.length) {
        out.push(acc.slice());
        return;
      }
      const g = groups[gi];
      const orders = g.length === 1 ? [g] : permutations(g.length).map((p) => Array.from(p, (i) => g[i]));
      for (const o of orders) {
        for (let j = 0; j < o.length; j++) acc[o[j]] = pos + j;
        rec(gi + 1, pos + g.length, acc);
        if (out.length >= MAX_TIE_RENAMINGS) return;
      }
    };
    rec(0, 0, new Int32Array(n));
    return out;
  }
}
