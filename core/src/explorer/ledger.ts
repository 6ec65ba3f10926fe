/**
 * What a scenario's calls were supposed to do and what they did: every call must run its
 * callback exactly once on each expected CPU, and a waiting call must not return before its
 * callbacks have finished.
 */
export class CallLedger {
  private readonly expected = new Map<string, number[]>();
  private readonly ran = new Map<string, number[]>();
  private readonly finished = new Map<string, number>();
  private readonly earlyReturns: string[] = [];

  /** A call `id` was issued to `cpus`. */
  issue(id: string, cpus: readonly number[]): void {
    this.expected.set(id, [...cpus]);
  }

  /** A callback wrapper recording that call `id` ran (and finished) on the CPU it runs on. */
  callback(id: string, body?: (cpu: number) => void): (info: unknown, cpu: number) => void {
    const fn = (_info: unknown, cpu: number): void => {
      body?.(cpu);
      (this.ran.get(id) ?? this.ran.set(id, []).get(id)!).push(cpu);
      this.finished.set(id, (this.finished.get(id) ?? 0) + 1);
    };
    Object.defineProperty(fn, "name", { value: `call_${id.replace(/\W/g, "_")}` });
    return fn;
  }

  /** A waiting call `id` returned: all its callbacks must have finished. */
  returned(id: string): void {
    const want = this.expected.get(id)?.length ?? 0;
    if ((this.finished.get(id) ?? 0) < want) this.earlyReturns.push(id);
  }

  /**
   * What the verdict still depends on, for the explorer's state key: per call, the CPUs it
   * targets, the CPUs its callback ran on and how many runs finished, and the calls that returned
   * early. Two runs can reach the same machine state with different ledgers (a callback lost in
   * one, run in the other; one run twice): their verdicts differ, so a hashed search that pruned
   * one on meeting the other's state would lose a violation. CPU ids are renamed by `perm` (old ->
   * new, for symmetry), and so is the issuing CPU at the start of an id (`cpu.k`).
   */
  stateKey(perm: Int32Array | null): string {
    const cpu = (c: number) => (perm === null ? c : perm[c]);
    const id = (s: string) => (perm === null ? s : s.replace(/^\d+/, (c) => String(cpu(Number(c)))));
    const cpus = (list: readonly number[] | undefined) =>
      list === undefined
        ? ""
        : list
            .map(cpu)
            .sort((a, b) => a - b)
            .join(".");
    const parts: string[] = [];
    for (const [k, want] of this.expected)
      parts.push(`${id(k)}>${cpus(want)}:${cpus(this.ran.get(k))}:${this.finished.get(k) ?? 0}`);
    for (const k of this.earlyReturns) parts.push(`!${id(k)}`);
    return parts.sort().join(",");
  }

  /** Calls issued. */
  get size(): number {
    return this.expected.size;
  }

  /** Violations found: lost or duplicated callbacks, early returns. Empty when all is well. */
  violations(): string[] {
    const out: string[] = [];
    for (const [id, cpus] of this.expected) {
      const got = [...(this.ran.get(id) ?? [])].sort((a, b) => a - b);
      const want = [...cpus].sort((a, b) => a - b);
      for (const c of want) {
        const k = got.filter((x) => x === c).length;
        if (k === 0) out.push(`call ${id} lost: its callback never ran on CPU ${c}`);
        else if (k > 1) out.push(`call ${id} ran ${k} times on CPU ${c}`);
      }
      for (const c of new Set(got))
        if (!want.includes(c)) out.push(`call ${id} ran on CPU ${c}, which it did not target`);
    }
    for (const id of this.earlyReturns)
      out.push(`call ${id} waited, but returned before its callback finished`);
    return out;
  }
}
