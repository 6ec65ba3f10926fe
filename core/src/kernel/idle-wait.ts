import type { Machine } from "../machine/machine";
import { WaitChannel } from "../machine/step";

/**
 * What an idle CPU waits on (hlt, or a polling loop on need_resched): it ends on an interrupt,
 * and, unless halted, when need_resched is set, or when a program is queued for the CPU. Its
 * one implementation is the idle loop itself (`IdleLoop`), which knows whether it is halted.
 */
export abstract class IdleWait extends WaitChannel {
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
  describe(): string {
    return `idle on CPU ${this.cpu}`;
  }
}
