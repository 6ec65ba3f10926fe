import type { Machine } from "../machine/machine";
import { WaitChannel } from "../machine/step";

/**
 * What an idle CPU waits on (hlt, or a polling loop on need_resched): it ends on an interrupt,
 * when need_resched is set, or when a program is queued for the CPU.
 */
export class IdleWait extends WaitChannel {
  override get wakesOnInterrupt(): boolean {
    return true;
  }
  constructor(
    protected readonly machine: Machine,
    /** The idle CPU. */
    readonly cpu: number,
  ) {
    super();
  }
  blocked(): boolean {
    return !this.machine.cpus[this.cpu].needResched && !this.machine.hasQueuedProgram(this.cpu);
  }
  describe(): string {
    return `idle on CPU ${this.cpu}`;
  }
}
