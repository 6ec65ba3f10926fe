import type { Machine } from "../machine/machine";
import type { CpuCode } from "../machine/step";
import type { IdleWait } from "./idle-wait";
import type { KernelMemory } from "./kernel-memory";

/**
 * How an idle CPU sleeps (the kernel's idle driver): `halt` (x86 `hlt`, `idle=halt`: polling
 * only between sleeps), `mwait` (x86 MWAIT idle: polling also during the sleep, which a write to
 * need_resched ends) or `poll` (`idle=poll`: never sleeps, spins on need_resched).
 */
export type IdleMode = "halt" | "mwait" | "poll";

/** The idle modes, for option checks and `--idle`. */
export const IDLE_MODES: readonly IdleMode[] = ["halt", "mwait", "poll"];

/**
 * do_idle as the kernel runs it. The idle task polls (TIF_POLLING_NRFLAG) from the moment it
 * enters the loop. `halt` clears the flag just before each `hlt` and sets it again after the
 * wake-up, so a call arriving in the polling window between two halts gets need_resched and no
 * IPI, while one arriving during the halt gets an IPI whose handler runs it in hard IRQ. `mwait`
 * keeps polling during the sleep (a need_resched write ends it), and clears the flag when an
 * interrupt wakes it. `poll` polls with interrupts on and never sleeps; its interrupt handlers run
 * with the flag still set. The loop leaves only when need_resched is set (or a program arrives);
 * only then does it flush the call queue from the idle task (`flush_smp_call_function_queue`).
 * A CPU idle when the run starts (t = 0) is already asleep: the machine starts in a steady state.
 * With `mem` (a weak memory model) the flag word's updates and the barriers next to them go
 * through the memory layer as well. `pollingFlag` false models an architecture without
 * TIF_POLLING_NRFLAG (6.1: arm64, riscv, s390): setting and clearing the flag are no-ops there, so
 * the idle task never polls and every call to an idle CPU sends an IPI.
 */
export function* doIdle(
  machine: Machine,
  mode: IdleMode,
  wait: IdleWait,
  flush: () => CpuCode<void>,
  mem: KernelMemory | null = null,
  pollingFlag = true,
): CpuCode<void> {
  const cpu = wait.cpu;
  const c = machine.cpus[cpu];
  const cost = machine.cost;
  let asleep = machine.now === 0;
  while (!machine.hasQueuedProgram(cpu)) {
    if (pollingFlag) {
      c.polling = true;
      mem?.idleSetPolling(cpu);
    }
    while (!c.needResched && !machine.hasQueuedProgram(cpu)) {
      if (mode === "poll") {
        // cpu_idle_poll: interrupts on, spin on need_resched.
        c.idleExitNs = cost.pollExitNs;
        const irqs = c.irqsTaken;
        yield wait;
        if (c.irqsTaken === irqs) yield cost.pollExitNs;
        continue;
      }
      // The loop's bookkeeping before the sleep: interrupts off, still polling. (Set directly:
      // the idle task's own irq toggling is not traced.)
      if (!asleep) {
        c.irqsDisabled = true;
        yield cost.idlePollWindowNs;
        c.irqsDisabled = false;
      }
      asleep = false;
      if (mode === "halt") {
        // current_clr_polling_and_test, then sti; hlt: only an interrupt ends the halt.
        c.polling = false;
        if (pollingFlag) mem?.idleClrPollingAndTest(cpu);
        // Halting with need_resched set ends at once (the idle wait is not blocked) and costs no
        // exit here, so dropping this test changes nothing a run shows.
        // Stryker disable next-line ConditionalExpression: equivalent mutant (see above)
        if (c.needResched || machine.hasQueuedProgram(cpu)) break;
        c.idleExitNs = cost.haltExitNs;
        yield wait;
        if (pollingFlag) {
          c.polling = true;
          mem?.idleSetPolling(cpu);
        }
      } else {
        // mwait_idle_with_hints: the flag stays set while asleep; a need_resched write wakes it.
        if (c.needResched || machine.hasQueuedProgram(cpu)) break;
        c.idleExitNs = cost.mwaitExitNs;
        c.pollingEndsOnWake = true;
        const irqs = c.irqsTaken;
        yield wait;
        c.pollingEndsOnWake = false;
        if (c.irqsTaken === irqs) yield cost.mwaitExitNs;
        if (pollingFlag) {
          c.polling = true;
          mem?.idleSetPolling(cpu);
        }
      }
    }
    // Left because need_resched is set: stop polling, flush the queue, "schedule".
    c.polling = false;
    c.needResched = false;
    mem?.idleExit(cpu);
    yield* flush();
    mem?.idleClearNeedResched(cpu);
  }
}
