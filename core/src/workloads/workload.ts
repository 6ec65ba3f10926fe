import type { Prng } from "../machine/prng";
import type { CpuCode } from "../machine/step";
import type { SmpSystem } from "../system";

/** What a workload gets when it installs its programs. */
export interface WorkloadContext {
  readonly system: SmpSystem;
  /** Cross-call operations to issue in total (spread over the CPUs). */
  readonly ops: number;
  /** The workload's random stream (derived from the machine seed). */
  readonly rng: Prng;
}

/** A named cross-call workload: programs spawned on the CPUs of a system. */
export interface Workload {
  readonly name: string;
  /** One line on what it does, for `--help`. */
  readonly description: string;
  /** Operations issued when `--ops` is not given, for a machine of `cpus` CPUs. */
  defaultOps(cpus: number): number;
  /** Spawn the programs. */
  install(ctx: WorkloadContext): void;
}

/** How many of `ops` operations CPU `cpu` of `n` issues (round-robin share). */
export function opsShare(cpu: number, n: number, ops: number): number {
  return Math.floor(ops / n) + (cpu < ops % n ? 1 : 0);
}

/**
 * Spawn `perOp(k)` `opsShare` times on each of the first `senders` CPUs (default all) that has a
 * share, with random think time between ops.
 */
export function spreadOps(
  ctx: WorkloadContext,
  thinkNs: [number, number],
  perOp: (cpu: number, k: number) => CpuCode<unknown>,
  senders?: number,
): void {
  const m = ctx.system.machine;
  forEachSender(ctx, Math.min(m.nrCpus, senders ?? m.nrCpus), (cpu, share, rng) =>
    m.spawn(
      cpu,
      (function* () {
        for (let k = 0; k < share; k++) {
          yield thinkNs[0] + rng.int(thinkNs[1] - thinkNs[0] + 1);
          yield* perOp(cpu, k);
        }
      })(),
    ),
  );
}

/** The CPUs that issue ops when a quarter of the machine (at least one CPU) stays idle. */
export function busyCpus(ctx: WorkloadContext): number {
  const n = ctx.system.machine.nrCpus;
  return Math.max(1, n - Math.floor(n / 4));
}

/**
 * Call `body` for each of the first `senders` CPUs that is online and has a share of the ops
 * (round-robin), with that share and the CPU's own random stream (`cpu<N>`, forked in CPU order).
 */
export function forEachSender(
  ctx: WorkloadContext,
  senders: number,
  body: (cpu: number, share: number, rng: Prng) => void,
): void {
  const m = ctx.system.machine;
  for (let cpu = 0; cpu < senders; cpu++) {
    const share = opsShare(cpu, senders, ctx.ops);
    if (share === 0 || !m.cpus[cpu].online) continue;
    body(cpu, share, ctx.rng.fork(`cpu${cpu}`));
  }
}

/** A random online CPU other than `self` (or -1 when there is none). */
export function randomOtherCpu(ctx: WorkloadContext, rng: Prng, self: number): number {
  const m = ctx.system.machine;
  const n = m.nrCpus;
  for (let tries = 0; tries < 64; tries++) {
    const c = rng.int(n);
    if (c !== self && m.cpus[c].online) return c;
  }
  for (let c = m.onlineMask.first(); c < n; c = m.onlineMask.next(c)) if (c !== self) return c;
  return -1;
}
