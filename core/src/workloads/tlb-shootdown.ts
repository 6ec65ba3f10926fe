import { CpuMask } from "../machine/cpumask";
import type { Workload } from "./workload";
import { opsShare } from "./workload";

/** Per-flush information, as the kernel's flush_tlb_info. */
interface FlushTlbInfo {
  readonly lazy: Uint8Array;
}

/** The remote flush callback. */
function flush_tlb_func(): void {}

/** on_each_cpu_cond_mask's filter: skip CPUs in lazy TLB mode. */
function tlb_is_not_lazy(cpu: number, info: FlushTlbInfo): boolean {
  return info.lazy[cpu] === 0;
}

/**
 * TLB shootdowns the way the kernel flushes: each CPU runs one of a few address spaces (mm) whose
 * cpumask changes as tasks migrate; a flush is on_each_cpu_cond_mask(tlb_is_not_lazy,
 * flush_tlb_func, info, wait=1, mm_cpumask) from a CPU in the mask. CPUs drift in and out of
 * lazy TLB mode.
 */
export const tlbShootdownWorkload: Workload = {
  name: "tlb-shootdown",
  description: "on_each_cpu_cond_mask(tlb_is_not_lazy, flush_tlb_func, wait=1) over changing mm cpumasks",
  defaultOps: (cpus) => Math.max(16, Math.min(4096, 8 * cpus)),
  install(ctx) {
    const m = ctx.system.machine;
    const k = ctx.system.kernel;
    const n = m.nrCpus;
    const nrMms = Math.max(1, Math.floor(n / 8));
    const rng = ctx.rng.fork("mms");
    const mmMask = Array.from({ length: nrMms }, () => new CpuMask(n));
    for (let cpu = 0; cpu < n; cpu++) mmMask[cpu % nrMms].set(cpu);
    const info: FlushTlbInfo = { lazy: new Uint8Array(n) };
    const flushing = new Uint8Array(n);
    for (let cpu = 0; cpu < n; cpu++) {
      const share = opsShare(cpu, n, ctx.ops);
      if (share === 0 || !m.cpus[cpu].online) continue;
      const mm = mmMask[cpu % nrMms];
      const own = ctx.rng.fork(`cpu${cpu}`);
      m.spawn(
        cpu,
        (function* () {
          for (let i = 0; i < share; i++) {
            yield 300 + own.int(1500);
            // Tasks of this mm migrate: one CPU joins the mask, one leaves (never the flusher).
            mm.set(rng.int(n));
            const leave = rng.int(n);
            if (leave !== cpu) mm.clear(leave);
            mm.set(cpu);
            // Another CPU switches in or out of lazy mode, unless it is flushing (preemption is
            // off there, so it cannot switch; 6.1 asks the flusher's own cond_func last).
            const flip = rng.int(n);
            if (flushing[flip] === 0) info.lazy[flip] ^= 1;
            info.lazy[cpu] = 0;
            flushing[cpu] = 1;
            yield* k.onEachCpuCondMask(tlb_is_not_lazy, flush_tlb_func, info, true, mm);
            flushing[cpu] = 0;
          }
        })(),
      );
    }
  },
};
