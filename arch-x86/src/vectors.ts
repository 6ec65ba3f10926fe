/**
 * x86 IPI vectors (64-bit Linux numbering) and their machine interrupt lines. A higher vector has
 * a higher priority, so it maps to a lower line (the machine takes lower lines first).
 */
/** RESCHEDULE_VECTOR. */
export const RESCHEDULE_VECTOR = 0xfd;
/** CALL_FUNCTION_VECTOR: the mask path (smp_call_function_many, TLB shootdowns). */
export const CALL_FUNCTION_VECTOR = 0xfc;
/** CALL_FUNCTION_SINGLE_VECTOR: the single path. */
export const CALL_FUNCTION_SINGLE_VECTOR = 0xfb;

/** The vectors this backend sends, highest (highest priority) first. */
export const IPI_VECTORS: readonly number[] = [
  RESCHEDULE_VECTOR,
  CALL_FUNCTION_VECTOR,
  CALL_FUNCTION_SINGLE_VECTOR,
];

/** The machine line that carries `vector` (0xff - vector: 0xfd -> 2, 0xfc -> 3, 0xfb -> 4). */
export function lineOfVector(vector: number): number {
  return 0xff - vector;
}

/** The vector a machine line carries. */
export function vectorOfLine(line: number): number {
  return 0xff - line;
}

/**
 * The name of a vector for traces and reports, in the style of /proc/interrupts. 6.1 counts both
 * call vectors in one row ("Function call interrupts"); the "(single)" of 0xfb is smpcall's, so
 * the two can be told apart.
 */
export function vectorName(vector: number): string {
  switch (vector) {
    case CALL_FUNCTION_VECTOR:
      return "Function call interrupts";
    case CALL_FUNCTION_SINGLE_VECTOR:
      return "Function call interrupts (single)";
    case RESCHEDULE_VECTOR:
      return "Rescheduling interrupts";
    default:
      return `vector 0x${vector.toString(16)}`;
  }
}
