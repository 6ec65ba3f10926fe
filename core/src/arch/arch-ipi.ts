import type { CpuMask } from "../machine/cpumask";
import type { CpuCode } from "../machine/step";

/** A backend's counters, by name (e.g. `icrWrites`, `doorbells`, `mondoRetries`). */
export type ArchStatistics = Record<string, number>;

/**
 * The architecture part of cross-calls: how an IPI is sent and how it is taken.
 *
 * Send side (called on the sending CPU, as CPU code, so hardware costs such as an ICR busy-wait
 * or hypervisor retries take virtual time there):
 * - `sendCallFunctionIpiMask` = `arch_send_call_function_ipi_mask`: every CPU in `mask` must
 *   eventually take an interrupt that reaches the core's handler. The sender is never in the
 *   mask. The mask belongs to the caller and is reused: do not keep it past the call.
 * - `sendCallFunctionSingleIpi` = `arch_send_call_function_single_ipi`.
 * - `sendRescheduleIpi` = `smp_send_reschedule`: the target must call `SmpHandlers.schedulerIpi`.
 *   Unlike the call-function sends, it is also called for an offline CPU, as the kernel's is
 *   (generic code does not filter it): the backend does what its arch does (x86 WARNs and sends
 *   nothing, sparc64 skips offline CPUs, powerpc sends the message).
 *
 * Receive side: the machine calls `handleInterrupt(cpu, line)` in hard-IRQ context (interrupts
 * off) when `cpu` takes interrupt `line`. The backend acknowledges its hardware exactly once per
 * taken interrupt and calls the core handlers (`SmpHandlers`) for every message it carries.
 *
 * The core's call queue is the source of truth: hardware may merge interrupts, but must never
 * lose the last one for a CPU whose queue is non-empty.
 */
export interface ArchIpi {
  /** arch_send_call_function_ipi_mask: raise the call-function IPI at every CPU of `mask`. */
  sendCallFunctionIpiMask(mask: CpuMask): CpuCode<void>;
  /** arch_send_call_function_single_ipi: raise the call-function IPI at `cpu`. */
  sendCallFunctionSingleIpi(cpu: number): CpuCode<void>;
  /** smp_send_reschedule: raise the reschedule IPI at `cpu`. */
  sendRescheduleIpi(cpu: number): CpuCode<void>;
  /** The arch interrupt entry for `line` on `cpu` (hard-IRQ context): acknowledge, then call the core handlers. */
  handleInterrupt(cpu: number, line: number): CpuCode<void>;
  /** Name of an interrupt line, for `ipi_entry`/`ipi_exit` (e.g. `Function call interrupts`). */
  lineName(line: number): string;
  /** Counters so far. Keys are stable; values are plain numbers. */
  statistics(): ArchStatistics;
}

/** What the core offers the receive side: the generic handlers of kernel/smp.c and the scheduler. */
export interface SmpHandlers {
  /** generic_smp_call_function_interrupt: flush this CPU's call queue (hard-IRQ context). */
  genericSmpCallFunctionInterrupt(): CpuCode<void>;
  /** generic_smp_call_function_single_interrupt: the same flush (the two merged in v5.x+). */
  genericSmpCallFunctionSingleInterrupt(): CpuCode<void>;
  /** scheduler_ipi: a reschedule IPI arrived; sets need_resched on this CPU. */
  schedulerIpi(): void;
}

/** A kernel-style warning raised by arch code (a WARN or WARN_ON_ONCE in the arch's send path). */
export interface ArchWarning {
  /** Stable id of the warning site, e.g. `x86:reschedule-offline`. */
  readonly site: string;
  /** What happened, in smpcall's words. */
  readonly message: string;
  /** The kernel source file of the WARN, e.g. `arch/x86/kernel/apic/ipi.c`. */
  readonly file: string;
  /** Its line in 6.1 (the `--kernel 6.1` splat names it; the mainline profile names the file alone). */
  readonly line: number;
  /** The function the splat names. */
  readonly function: string;
  /** The WARN's own formatted line, if it has one (printed before the `WARNING:` line). */
  readonly formatted?: string;
  /** WARN_ON_ONCE: only the first hit is reported. Otherwise (WARN) every hit is, distinct messages once each with repeats counted. */
  readonly once?: boolean;
}

/**
 * What the core offers backends for kernel-style warnings: they go to the kernel's warning log
 * (`SmpKernel.warnings`), are traced as `smpcall_warning` and reported with the run's warnings,
 * never swallowed.
 */
export interface ArchWarnings {
  /** Record `warning` as raised now on the running CPU. */
  archWarn(warning: ArchWarning): void;
}

/**
 * Fault injection for backends: every random hardware outcome goes through the machine's
 * chooser, so runs are reproducible and the explorer can steer them.
 */
export interface FaultInjector {
  /** True with probability p; `tag` names the fault (e.g. `sparc.nack`). */
  chance(p: number, tag: string): boolean;
  /** Uniform integer in [0, n). */
  chooseInt(n: number, tag: string): number;
}
