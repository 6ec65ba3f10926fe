/**
 * @smpcall/core: Linux kernel/smp.c cross-calls on a deterministic simulated multiprocessor.
 * Machine (clock, event heap, CPUs, chooser), kernel (queues, CSDs, API), trace, arch contract.
 */
export * from "./errors";
export * from "./machine/cpumask";
export * from "./machine/event-heap";
export * from "./machine/prng";
export * from "./machine/topology";
export * from "./machine/cost-model";
export * from "./machine/step";
export * from "./machine/cpu";
export * from "./machine/chooser";
export * from "./machine/problems";
export * from "./machine/machine";
export * from "./kernel/csd";
export * from "./kernel/call-single-queue";
export * from "./kernel/call-completion";
export * from "./kernel/warnings";
export * from "./kernel/stats";
export * from "./kernel/smp";
export { IDLE_MODES, type IdleMode } from "./kernel/idle-loop";
export { WakeTask, ENTRY_TYPE_NAMES, sched_ttwu_pending } from "./kernel/queue-entries";
export * from "./kernel/profile";
export * from "./kernel/csd-watchdog";
export * from "./kernel/kernel-memory";
export * from "./trace/trace-sink";
export * from "./arch/arch-ipi";
export * from "./arch/interconnect";
export * from "./arch/options";
export * from "./arch/descriptor";
export * from "./arch/handler-frames";
export * from "./arch/tokens";
export * from "./arch/loader";
export * from "./system";
export * from "./trace/ftrace";
export * from "./trace/chrome";
export * from "./report/run-report";
export * from "./workloads/index";
export * from "./workloads/run-workload";
export * from "./explorer/index";
export * from "./memory/index";
