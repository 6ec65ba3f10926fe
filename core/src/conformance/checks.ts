import { maskBoundariesCheck } from "./checks/boundaries";
import { busyTargetCheck } from "./checks/busy";
import { causalityCheck } from "./checks/causality";
import { concurrentSendersCheck } from "./checks/concurrent-senders";
import { repeatedSendsCheck, sustainedTrafficCheck } from "./checks/coalescing";
import { offlineCheck, maskIpiCheck, maskSendAnyMaskCheck, singleIpiCheck } from "./checks/delivery";
import { descriptorCheck } from "./checks/descriptor";
import { determinismCheck } from "./checks/determinism";
import { raiseDuringHandlerCheck } from "./checks/handler-race";
import { hotplugHolesCheck } from "./checks/hotplug";
import { irqContextCheck } from "./checks/irq-context";
import { messagesCheck } from "./checks/messages";
import { noSpuriousFaultsCheck, permanentFaultsCheck, transientFaultsCheck } from "./checks/faults";
import { acknowledgeCheck } from "./checks/receive";
import { randomSchedulesCheck } from "./checks/schedules";
import { signalStatisticCheck } from "./checks/signals";
import { statisticsCheck } from "./checks/statistics";
import type { ConformanceCheck } from "./types";

/** Every check of the kit, in the order they run. */
export const CONFORMANCE_CHECKS: readonly ConformanceCheck[] = [
  descriptorCheck,
  singleIpiCheck,
  maskIpiCheck,
  maskSendAnyMaskCheck,
  maskBoundariesCheck,
  offlineCheck,
  hotplugHolesCheck,
  causalityCheck,
  messagesCheck,
  irqContextCheck,
  repeatedSendsCheck,
  sustainedTrafficCheck,
  raiseDuringHandlerCheck,
  concurrentSendersCheck,
  randomSchedulesCheck,
  acknowledgeCheck,
  transientFaultsCheck,
  permanentFaultsCheck,
  busyTargetCheck,
  noSpuriousFaultsCheck,
  statisticsCheck,
  signalStatisticCheck,
  determinismCheck,
];
