/** PowerPC IPI messages (v6.x numbers), muxed in one per-CPU word. */
export const PPC_MSG_CALL_FUNCTION = 0;
/** Reschedule message. */
export const PPC_MSG_RESCHEDULE = 1;
/** Tick broadcast message. */
export const PPC_MSG_TICK_BROADCAST = 2;
/** NMI IPI message. */
export const PPC_MSG_NMI_IPI = 3;
/** Message names, by number. */
export const PPC_MSG_NAMES = ["call_function", "reschedule", "tick_broadcast", "nmi_ipi"] as const;

/** The 2008 (v2.6.26) message numbers: one MPIC IPI channel each, no muxing. */
export const MSG_2008_CALL_FUNCTION = 0;
/** 2008 reschedule channel. */
export const MSG_2008_RESCHEDULE = 1;
/** 2008 call-function-single channel. */
export const MSG_2008_CALL_FUNC_SINGLE = 2;
/** 2008 debugger-break channel. */
export const MSG_2008_DEBUGGER_BREAK = 3;
/** 2008 channel names, by number. */
export const MSG_2008_NAMES = [
  "call_function",
  "reschedule",
  "call_function_single",
  "debugger_break",
] as const;
/** 2008 `message_pass` special targets. */
export const MSG_ALL = 0x8001;
/** Every online CPU but the sender. */
export const MSG_ALL_BUT_SELF = 0x8000;

/**
 * Machine line of the interrupt controller's IPI (XICS MFRR, XIVE, H_IPI): the external
 * interrupt. It is the lower line, so the machine takes it before a pending doorbell, as 6.1 does:
 * a soft-disabled CPU that got both replays the external interrupt before the doorbell
 * (`__replay_soft_interrupts`; the doorbell that came in while the external one hard-disabled the
 * CPU is taken only once MSR[EE] is set again, after the replay).
 */
export const LINE_CONTROLLER = 0;
/** Machine line of the doorbell exception (msgsnd / msgsndp); taken after a pending controller IPI. */
export const LINE_DOORBELL = 1;
