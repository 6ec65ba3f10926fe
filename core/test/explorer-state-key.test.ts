import { describe, expect, it } from "@jest/globals";
import { descriptor as generic } from "@smpcall/arch-generic";
import { descriptor as sparc } from "@smpcall/arch-sparc";
import {
  CallData2008,
  CallLedger,
  CanonicalKeyer,
  CSD_FLAG_TYPE_MASK,
  FRAME_SLOTS,
  F_LINE,
  getPolicy,
  getScenario,
  KeyWords,
  PollWait2008,
  RandomWalkChooser,
  runScenario,
  stateKey,
  type ArchDescriptor,
  type ExploreConfig,
  type ScenarioContext,
  type Wait,
} from "@smpcall/core";

/**
 * The state key as it was built before StateKeyBuilder (every renaming's key from scratch):
 * the reference the gathered, piecewise keys must equal string for string — so the least key
 * over a symmetry group, and the renaming it picks, stay what they were.
 */
function referenceKey(
  ctx: ScenarioContext,
  words: KeyWords,
  perm: Int32Array | null,
  permId: string,
): string {
  const { system, runtime, ledger } = ctx;
  const m = system.machine;
  const n = m.nrCpus;
  const name = (c: number) => (perm === null || c < 0 ? c : perm[c]);
  const waitKey = (w: Wait | null): string => {
    if (w === null) return "";
    if (w instanceof CallData2008) return `d${w.key(perm)}`;
    if (w instanceof PollWait2008) return `p${w.data === null ? "" : w.data.key(perm)}`;
    return `w${words.id(w.describe(), perm, permId)}`;
  };
  const cpus = new Array<string>(n);
  const queues = new Array<string>(n);
  for (let cpu = 0; cpu < n; cpu++) {
    const c = m.cpus[cpu];
    let key = ctx.frames === undefined ? `${c.busyNs}|${c.irqsTaken}` : ctx.frames.key(c.id);
    key += `|${c.irqsDisabled ? 1 : 0}|${c.hardirqDepth}|${c.pendingLines}|${c.needResched ? 1 : 0}${c.polling ? 1 : 0}${c.pollingEndsOnWake ? 1 : 0}${c.trapsHeld ? 1 : 0}${c.online ? 1 : 0}${c.dead ? 1 : 0}`;
    for (let i = 0; i < c.depth; i++)
      key += `|${c.frameKind(i)}.${c.stack[i * FRAME_SLOTS + F_LINE] as number}.${waitKey(c.frameWait(i))}`;
    for (let pend = c.pendingLines, line = 0; pend !== 0; pend >>>= 1, line++)
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
  const memory = system.kernel.memory.stateKey();
  // While the clock reads 0 the key says so (the idle loop's one decision on time).
  const t0 = system.machine.now === 0 ? ";t0" : "";
  return `${cpus.join(";")};${queues.join(";")};${ev.sort().join(",")}${t0};${runtime.stateKey(perm)}#${ledger.stateKey(perm)};${memory}`;
}

function rotations(n: number): Int32Array[] {
  return Array.from({ length: n }, (_, r) => Int32Array.from({ length: n }, (_, c) => (c + r) % n));
}

/** At every choice of a random walk: the new keys against the reference. */
class Checker extends RandomWalkChooser {
  ctx: ScenarioContext | null = null;
  checked = 0;
  constructor(
    seed: number,
    private readonly cpus: number,
    private readonly symmetric: boolean,
  ) {
    super(seed);
  }
  protected override decide(n: number): number {
    const ctx = this.ctx!;
    const words = new KeyWords();
    expect(stateKey(ctx, words)).toBe(referenceKey(ctx, words, null, ""));
    if (this.symmetric) {
      const group = rotations(this.cpus);
      const keys = group.map((p) => referenceKey(ctx, words, p, p.join(".")));
      let best = 0;
      for (let i = 1; i < keys.length; i++) if (keys[i] < keys[best]) best = i;
      for (let i = 0; i < group.length; i++)
        expect(stateKey(ctx, words, group[i], group[i].join("."))).toBe(keys[i]);
      const keyer = new CanonicalKeyer("rotation", this.cpus, words);
      expect(keyer.key(ctx)).toBe(keys[best]);
      expect([...keyer.perm]).toEqual([...group[best]]);
    }
    this.checked++;
    return super.decide(n);
  }
}

function cfg(
  scenario: string,
  policy: string,
  cpus: number,
  calls: number,
  arch: ArchDescriptor = generic,
  extra: Partial<ExploreConfig> = {},
): ExploreConfig {
  return {
    scenario: getScenario(scenario),
    policy: getPolicy(policy),
    arch,
    cpus,
    calls,
    strategy: "dfs",
    runs: 1,
    maxSteps: 20_000,
    seed: 1,
    ...extra,
  };
}

describe("state keys: gathered once, assembled per renaming", () => {
  it.each([
    ["seed-2008 poll-own-queue 4x1", cfg("seed-2008", "poll-own-queue", 4, 1), true],
    ["seed-2008 global-lock 3x2", cfg("seed-2008", "global-lock", 3, 2), true],
    ["seed-2008 target-mask 3x1", cfg("seed-2008", "target-mask", 3, 1), true],
    ["seed-2008 modern 3x2", cfg("seed-2008", "modern", 3, 2), true],
    ["seed-2008 naive 4x2 on sparc", cfg("seed-2008", "naive", 4, 2, sparc), true],
    ["seed-2008-mask poll-own-queue 3x1", cfg("seed-2008-mask", "poll-own-queue", 3, 1), true],
    ["rcu-stall poll-own-queue 3x1", cfg("rcu-stall", "poll-own-queue", 3, 1), true],
    [
      "mem-sync-result modern tso 2x1",
      cfg("mem-sync-result", "modern", 2, 1, generic, { memory: "tso" }),
      false,
    ],
  ] as const)(
    "%s: every key, and the least over the rotations with its renaming, equal the keys built in full",
    (_name, c, symmetric) => {
      let checked = 0;
      for (let seed = 1; seed <= 25; seed++) {
        const w = new Checker(seed, c.cpus, symmetric);
        runScenario(c, w, false, (x) => (w.ctx = x));
        checked += w.checked;
      }
      expect(checked).toBeGreaterThan(100);
    },
  );
});

describe("the ledger is part of the state key (the verdict depends on it)", () => {
  /** A ledger with call 0.0 (CPU 0 to CPUs 1 and 2) whose callback ran on `ran`. */
  function ledgerAfter(ran: number[], early = false): CallLedger {
    const l = new CallLedger();
    l.issue("0.0", [1, 2]);
    const cb = l.callback("0.0");
    for (const cpu of ran) cb(null, cpu);
    if (early) l.returned("0.0");
    return l;
  }

  it("a callback that ran, ran twice, or has not run yet, and an early return, give different keys", () => {
    const keys = [
      ledgerAfter([]),
      ledgerAfter([1]),
      ledgerAfter([1, 1]),
      ledgerAfter([1, 2]),
      ledgerAfter([1], true),
    ].map((l) => l.stateKey(null));
    expect(new Set(keys).size).toBe(keys.length);
    // The order callbacks ran in is not part of the verdict.
    expect(ledgerAfter([2, 1]).stateKey(null)).toBe(ledgerAfter([1, 2]).stateKey(null));
  });

  it("renames CPU ids and the issuing CPU of an id by the permutation, as the rest of the key", () => {
    const rotate = Int32Array.from([1, 2, 0]); // CPU c plays CPU c+1's part
    const a = new CallLedger();
    a.issue("0.0", [1]);
    a.callback("0.0")(null, 1);
    const b = new CallLedger();
    b.issue("1.0", [2]);
    b.callback("1.0")(null, 2);
    expect(a.stateKey(rotate)).toBe(b.stateKey(null));
    expect(a.stateKey(null)).not.toBe(b.stateKey(null));
  });
});
