import type { Topology } from "@smpcall/core";

/** Bits needed to number `count` things (0 for one). */
function bitsFor(count: number): number {
  return count <= 1 ? 0 : 32 - Math.clz32(count - 1);
}

/**
 * APIC IDs as firmware assigns them: from the topology, not from CPU numbers. The SMT thread is
 * the low field, the core within the package the next, the package the rest; each field is as
 * wide as its count needs (so 12 cores per package leave holes: IDs 24-31 of a 2-thread package
 * are unused). Returns the APIC ID of every CPU, indexed by CPU number.
 */
export function apicIdsOf(topology: Topology): Int32Array {
  const threadBits = bitsFor(topology.threadsPerCore);
  const coreBits = bitsFor(topology.coresPerPackage);
  const ids = new Int32Array(topology.nrCpus);
  for (let cpu = 0; cpu < ids.length; cpu++)
    ids[cpu] =
      (topology.packageOf(cpu) << (coreBits + threadBits)) |
      (topology.coreInPackage(cpu) << threadBits) |
      topology.threadOf(cpu);
  return ids;
}

/** The largest APIC ID of a topology. */
export function maxApicId(topology: Topology): number {
  let max = 0;
  for (const id of apicIdsOf(topology)) if (id > max) max = id;
  return max;
}
