import { LocationTable } from "./locations";
import type { AccessOrder, BarrierKind, Location, SharedMemory } from "./model";

/**
 * x86-TSO: each CPU's stores enter its FIFO store buffer and reach memory later, in order (the
 * caller decides when, through {@link drainOne}); a CPU's loads see its own newest buffered store
 * to the location first. `smp_mb` and every RMW drain the CPU's buffer. `smp_wmb`, `smp_rmb`,
 * release stores and acquire loads need no fence on x86 and order nothing more here.
 */
export class TsoMemory implements SharedMemory {
  readonly model = "tso";
  private readonly table = new LocationTable();
  private readonly values: number[] = [];
  /** Per CPU: buffered (location, value) pairs, oldest first, flattened. */
  private readonly buffers: number[][];

  constructor(cpus: number) {
    this.buffers = Array.from({ length: cpus }, () => []);
  }

  location(name: string, initial: number): Location {
    const loc = this.table.add(name, initial);
    this.values.push(initial);
    return loc;
  }
  nameOf(loc: Location): string {
    return this.table.names[loc];
  }
  load(cpu: number, loc: Location, _order?: AccessOrder): number {
    this.table.check(loc);
    const buf = this.buffers[cpu];
    for (let i = buf.length - 2; i >= 0; i -= 2) if (buf[i] === loc) return buf[i + 1];
    return this.values[loc];
  }
  loadNewest(cpu: number, loc: Location, order?: AccessOrder): number {
    this.table.check(loc);
    // The spin ends once the store it waits for has drained: drain every other CPU's buffer up
    // to (and including) its last store to `loc`, in FIFO order.
    for (let other = 0; other < this.buffers.length; other++) {
      if (other === cpu) continue;
      const buf = this.buffers[other];
      let last = -1;
      for (let i = 0; i < buf.length; i += 2) if (buf[i] === loc) last = i;
      for (let i = 0; i <= last; i += 2) this.drainOne(other);
    }
    return this.load(cpu, loc, order);
  }
  store(cpu: number, loc: Location, value: number, _order?: AccessOrder): void {
    this.table.check(loc);
    this.buffers[cpu].push(loc, value);
  }
  rmw(cpu: number, loc: Location, update: (old: number) => number | undefined, relaxed = false): number {
    this.table.check(loc);
    if (relaxed) {
      // The lock prefix dropped: a load (through the own buffer) and a buffered store.
      const was = this.load(cpu, loc);
      const upd = update(was);
      if (upd !== undefined) this.store(cpu, loc, upd);
      return was;
    }
    this.drainAll(cpu);
    const old = this.values[loc];
    const next = update(old);
    if (next !== undefined) this.values[loc] = next;
    return old;
  }
  barrier(cpu: number, kind: BarrierKind): void {
    if (kind === "mb" || kind === "mb__after_atomic") this.drainAll(cpu);
  }
  pendingDrains(cpu: number): number {
    return this.buffers[cpu].length >> 1;
  }
  drainOne(cpu: number): void {
    const buf = this.buffers[cpu];
    if (buf.length === 0) return;
    this.values[buf[0]] = buf[1];
    buf.splice(0, 2);
  }
  finalValue(loc: Location): number {
    for (let cpu = 0; cpu < this.buffers.length; cpu++) this.drainAll(cpu);
    return this.values[loc];
  }
  stateKey(): string {
    return `${this.table.key()}#${this.values.join(",")}|${this.buffers.map((b) => b.join(",")).join("|")}`;
  }
  private drainAll(cpu: number): void {
    while (this.buffers[cpu].length > 0) this.drainOne(cpu);
  }
}
