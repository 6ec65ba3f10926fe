/**
 * The shared-memory layer's vocabulary: which memory model a run uses, how an access is ordered,
 * and which barriers exist. The names follow the Linux kernel's (`READ_ONCE`, `smp_wmb`, ...).
 */

/**
 * Memory models:
 * - `sc`: sequential consistency — every access is visible to every CPU at once (smpcall's
 *   behaviour before the memory layer existed, and the default).
 * - `tso`: x86-TSO — each CPU has a FIFO store buffer; a CPU reads its own buffered stores;
 *   fully ordered operations (`smp_mb`, RMWs) drain it; when another buffered store drains is a
 *   choice.
 * - `lkmm`: a weak model in the spirit of the Linux-kernel memory model — per-location store
 *   histories with per-CPU views: a load may read any store to that location that its CPU has
 *   not yet seen superseded; release/acquire and the barriers move views between CPUs. Which
 *   store a load reads is a choice. A load reads only stores already made; load buffering comes
 *   only where the instruction list is known (the litmus runner runs a store ahead of earlier
 *   unordered loads), not in the kernel model, whose code runs in program order.
 */
export type MemoryModelName = "sc" | "tso" | "lkmm";

/** Every memory model, in the order `--memory` lists them. */
export const MEMORY_MODELS: readonly MemoryModelName[] = ["sc", "tso", "lkmm"];

/**
 * How one load or store is ordered. `once` (`READ_ONCE`/`WRITE_ONCE`) is a plain access that the
 * compiler may not tear or merge; for ordering it is the same as `plain`.
 */
export type AccessOrder = "plain" | "once" | "acquire" | "release";

/** The kernel's barriers: `smp_mb`, `smp_wmb`, `smp_rmb`, `smp_mb__after_atomic`. */
export type BarrierKind = "mb" | "wmb" | "rmb" | "mb__after_atomic";

/** Source of the choices a memory model makes (which store a load reads). */
export interface MemoryChoices {
  /** A choice among `n` options, 0 being the sequentially consistent one; `tag` names it. */
  chooseInt(n: number, tag: string): number;
}

/** A location in shared memory: a small integer handed out by {@link SharedMemory.location}. */
export type Location = number;

/**
 * Shared memory as seen by the simulated CPUs under one memory model. Every access names the CPU
 * making it; every nondeterministic outcome comes from the {@link MemoryChoices} given at
 * construction, so a run replays exactly from its choices.
 */
export interface SharedMemory {
  /** The model's name. */
  readonly model: MemoryModelName;
  /** Allocates a location named `name` (for traces and reports) holding `initial`. */
  location(name: string, initial: number): Location;
  /** The location's name. */
  nameOf(loc: Location): string;
  /** A load by `cpu`. */
  load(cpu: number, loc: Location, order?: AccessOrder): number;
  /**
   * The load that ends a spin loop (`smp_cond_load_acquire`, a `while (READ_ONCE(x))` wait): it
   * reads the newest store to `loc`, as a loop that keeps reading does in the end (tso: the
   * buffered stores before it drain first). No choice is made.
   */
  loadNewest(cpu: number, loc: Location, order?: AccessOrder): number;
  /** A store by `cpu`. */
  store(cpu: number, loc: Location, value: number, order?: AccessOrder): void;
  /**
   * A read-modify-write by `cpu` (`cmpxchg`, `xchg`, `atomic_*_return`): reads the newest value,
   * writes `update(old)` (unless it returns `undefined`, as a failed cmpxchg does) and returns
   * the old value. Fully ordered (a full barrier before and after) unless `relaxed`. Under `tso`
   * every RMW is a locked instruction (x86 has no other kind); `relaxed` there means the lock
   * prefix was dropped (an experiment): the RMW reads through its own store buffer and buffers its
   * write, so it is neither ordered nor atomic.
   */
  rmw(cpu: number, loc: Location, update: (old: number) => number | undefined, relaxed?: boolean): number;
  /** A barrier on `cpu`. */
  barrier(cpu: number, kind: BarrierKind): void;
  /** Stores `cpu` has made that other CPUs cannot see yet and that drain on their own (tso). */
  pendingDrains(cpu: number): number;
  /** Makes the oldest such store of `cpu` visible to everyone (tso; a no-op elsewhere). */
  drainOne(cpu: number): void;
  /** The newest value of `loc` once every pending store drained (for end-of-run checks). */
  finalValue(loc: Location): number;
  /**
   * The whole memory state (values, buffers, histories, views) as text: two states with the same
   * key behave the same from here on (the explorer's state cache uses it).
   */
  stateKey(): string;
}
