import { InvalidArgumentError, describeValue } from "../errors";

/** The kernels smpcall can behave as (see {@link KERNEL_PROFILES}). */
export type KernelProfileName = "6.1" | "mainline";

/** Names accepted by `createSmpSystem({ kernel })` and `--kernel`, default first. */
export const KERNEL_PROFILE_NAMES: readonly KernelProfileName[] = ["6.1", "mainline"];

/**
 * The default profile: 6.1, the one kernel this project has been checked against live (a 6.1
 * kernel under QEMU with a probe module) as well as in its sources (the Debian linux-source-6.1
 * package); mainline has been checked against 6.12's sources only.
 */
export const DEFAULT_KERNEL_PROFILE: KernelProfileName = "6.1";

/** Where a kernel warning sits in the sources, as the kernel's WARNING splat names it. */
export interface WarnSite {
  /** `file:line` the splat prints (`kernel/smp.c:760`), or the file alone where the line moves between releases. */
  readonly location: string;
  /** The function the splat names after the location. */
  readonly function: string;
}

/** Warning sites of kernel/smp.c that smpcall reproduces (see kernel-smp.md §2). */
export type WarnSiteId =
  | "single-irqs-disabled"
  | "single-not-in-task"
  | "many-irqs-disabled"
  | "many-not-in-task"
  | "csd-unlock-not-locked"
  | "offline-ipi"
  | "many-preemptible"
  | "irq-work-offline";

/**
 * One kernel release's behaviour, row by row of kernel-smp.md §9b. The kernel reads these flags
 * where the releases differ; nothing else about a profile is special.
 */
export interface KernelProfile {
  readonly name: KernelProfileName;
  /** Which kernel this is, for reports and trace headers. */
  readonly description: string;
  /**
   * `cond_func(this_cpu)` in `_many_cond` is evaluated after the remote IPIs were sent (6.1, and
   * still 6.12), not before the remote loop (v6.14 on: commit 63a48181fbcd, "smp/scf: Evaluate
   * local cond_func() before IPI side-effects").
   */
  readonly condSelfAfterRemote: boolean;
  /** CPUs whose `cond_func` is false stay in `cfd->cpumask` and are waited on (6.1), rather than cleared. */
  readonly condFalseStaysInMask: boolean;
  /**
   * kernel/smp.c has the `csd_queue_cpu`, `csd_function_entry/exit` and `ipi_send_cpu/cpumask`
   * tracepoints (v6.4+). Then the kernel's records of them are the kernel's fields as well: each
   * `callsite` is the traced function's return address (its caller), a local call's csd is NULL,
   * the wake-up batch is traced as `sched_ttwu_pending`. Without them (6.1) smpcall's own records
   * under those names keep their earlier fields.
   */
  readonly smpTracepoints: boolean;
  /** The lock-wait watchdog repeats its report every timeout (6.1) or at a growing interval, the stack dumped once. */
  readonly watchdogInterval: "every-timeout" | "growing";
  /** The function that holds the idle-polling check of the single-IPI send. */
  readonly pollingCheck: string;
  /** Warning sites as this release's splats name them. */
  readonly warnSites: Readonly<Record<WarnSiteId, WarnSite>>;
}

const PROFILE_6_1: KernelProfile = {
  name: "6.1",
  description: "Linux 6.1 LTS (kernel/smp.c as in Debian's linux-source-6.1)",
  condSelfAfterRemote: true,
  condFalseStaysInMask: true,
  smpTracepoints: false,
  watchdogInterval: "every-timeout",
  pollingCheck: "send_call_function_single_ipi (kernel/sched/core.c)",
  warnSites: {
    "single-irqs-disabled": { location: "kernel/smp.c:760", function: "smp_call_function_single" },
    "single-not-in-task": { location: "kernel/smp.c:769", function: "smp_call_function_single" },
    "many-irqs-disabled": { location: "kernel/smp.c:915", function: "smp_call_function_many_cond" },
    "many-not-in-task": { location: "kernel/smp.c:923", function: "smp_call_function_many_cond" },
    "csd-unlock-not-locked": { location: "kernel/smp.c:472", function: "csd_unlock" },
    "offline-ipi": { location: "kernel/smp.c:597", function: "__flush_smp_call_function_queue" },
    "many-preemptible": { location: "kernel/smp.c:905", function: "smp_call_function_many_cond" },
    "irq-work-offline": { location: "kernel/irq_work.c:134", function: "irq_work_queue_on" },
  },
};

/**
 * Mainline: kernel/smp.c as in 6.12 (checked against Debian's linux-source-6.12), with v6.14's
 * `cond_func(self)` before the remote loop. Warning lines are not given: they move between
 * releases (6.12: smp.c:652, :661, :807, :815, :368, :496, :797; irq_work.c:144).
 */
const PROFILE_MAINLINE: KernelProfile = {
  name: "mainline",
  description:
    "mainline Linux (kernel/smp.c as in 6.12, checked against Debian's linux-source-6.12, with v6.14's cond_func(self) before the remote loop: csd and ipi_send tracepoints, growing watchdog report interval)",
  condSelfAfterRemote: false,
  condFalseStaysInMask: false,
  smpTracepoints: true,
  watchdogInterval: "growing",
  pollingCheck:
    "call_function_single_prep_ipi (kernel/sched/core.c), traced by send_call_function_single_ipi (kernel/smp.c)",
  warnSites: {
    "single-irqs-disabled": { location: "kernel/smp.c", function: "smp_call_function_single" },
    "single-not-in-task": { location: "kernel/smp.c", function: "smp_call_function_single" },
    "many-irqs-disabled": { location: "kernel/smp.c", function: "smp_call_function_many_cond" },
    "many-not-in-task": { location: "kernel/smp.c", function: "smp_call_function_many_cond" },
    "csd-unlock-not-locked": { location: "kernel/smp.c", function: "csd_unlock" },
    "offline-ipi": { location: "kernel/smp.c", function: "__flush_smp_call_function_queue" },
    "many-preemptible": { location: "kernel/smp.c", function: "smp_call_function_many_cond" },
    "irq-work-offline": { location: "kernel/irq_work.c", function: "irq_work_queue_on" },
  },
};

/** Every profile by name. */
export const KERNEL_PROFILES: Readonly<Record<KernelProfileName, KernelProfile>> = {
  "6.1": PROFILE_6_1,
  mainline: PROFILE_MAINLINE,
};

/**
 * The profile named `name` (undefined = the default). Throws an {@link InvalidArgumentError}
 * naming the choices for anything else.
 */
export function kernelProfile(name: unknown): KernelProfile {
  if (name === undefined) return KERNEL_PROFILES[DEFAULT_KERNEL_PROFILE];
  if (typeof name === "string" && Object.prototype.hasOwnProperty.call(KERNEL_PROFILES, name))
    return KERNEL_PROFILES[name as KernelProfileName];
  throw new InvalidArgumentError(
    `kernel must be one of ${KERNEL_PROFILE_NAMES.map((n) => `"${n}"`).join(", ")} (default "${DEFAULT_KERNEL_PROFILE}"), got ${describeValue(name)}`,
  );
}
