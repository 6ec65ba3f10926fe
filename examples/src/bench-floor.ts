/**
 * The floor of broadcast throughput (the same loop as `shared/bench/floor.js`): the least work any
 * JavaScript simulator of the protocol must do per executed callback: queue the call on each
 * target, raise an interrupt only when that queue was empty, and have each raised target flush
 * its queue. No virtual time, no tracing, no generators: a lower bound, not a design.
 */

/** One run of the floor loop. */
export interface FloorRun {
  callbacks: number;
  ns: number;
}

/** Run the floor loop: `ops` broadcasts from CPU 0 to the other `cpus - 1` CPUs. */
export function runFloor(cpus: number, ops: number): FloorRun {
  const queues: { fn: (info: number) => void; info: number }[][] = Array.from({ length: cpus }, () => []);
  let executed = 0;
  const fn = (): void => {
    executed++;
  };
  const raised = new Int32Array(cpus);
  const t0 = process.hrtime.bigint();
  for (let op = 0; op < ops; op++) {
    let nraised = 0;
    for (let c = 1; c < cpus; c++) {
      if (queues[c].push({ fn, info: op }) === 1) raised[nraised++] = c;
    }
    for (let k = 0; k < nraised; k++) {
      const q = queues[raised[k]];
      for (let i = 0; i < q.length; i++) q[i].fn(q[i].info);
      q.length = 0;
    }
  }
  const ns = Number(process.hrtime.bigint() - t0);
  return { callbacks: executed, ns };
}
