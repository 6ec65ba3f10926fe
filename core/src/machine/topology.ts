import { InvalidArgumentError, describeValue } from "../errors";
/**
 * How CPU numbers are laid over the cores' SMT threads.
 * - `siblings-adjacent`: CPU n is thread `n % threadsPerCore` of core `floor(n / threadsPerCore)`
 *   (PowerPC, and the machine's default).
 * - `cores-first`: the first thread of every core, then every core's second thread, and so on:
 *   CPU n is thread `floor(n / nrCores)` of core `n % nrCores` (what Linux's enumeration order
 *   usually gives on x86, where firmware lists every core's first thread before the siblings).
 */
export type CpuNumbering = "siblings-adjacent" | "cores-first";

/** The numberings, for option schemas. */
export const CPU_NUMBERINGS: readonly CpuNumbering[] = ["siblings-adjacent", "cores-first"];

/**
 * The machine's shape: CPUs grouped into SMT threads of a core, cores of a package (socket),
 * packages of a NUMA node. CPU ids are dense; `numbering` says how they map to threads.
 */
export interface TopologyOptions {
  /** SMT threads per core (default 2, or 1 when the CPU count is odd). */
  threadsPerCore?: number;
  /** Cores per package/socket (default: 16). */
  coresPerPackage?: number;
  /** Packages per NUMA node (default 1). */
  packagesPerNode?: number;
  /** CPU numbering over the threads (default `siblings-adjacent`). */
  numbering?: CpuNumbering;
}

/** The CPU topology of one machine (see {@link CpuNumbering} for the numbering). */
export class Topology {
  readonly threadsPerCore: number;
  readonly coresPerPackage: number;
  readonly packagesPerNode: number;
  /** How CPU numbers map to threads. */
  readonly numbering: CpuNumbering;
  /** Number of cores (the last ones may have fewer threads when the CPU count is not a multiple). */
  readonly nrCores: number;

  constructor(
    readonly nrCpus: number,
    options: TopologyOptions = {},
  ) {
    this.threadsPerCore = options.threadsPerCore ?? (nrCpus % 2 === 0 ? 2 : 1);
    this.coresPerPackage = options.coresPerPackage ?? 16;
    this.packagesPerNode = options.packagesPerNode ?? 1;
    this.numbering = options.numbering ?? "siblings-adjacent";
    for (const [k, v] of Object.entries({
      threadsPerCore: this.threadsPerCore,
      coresPerPackage: this.coresPerPackage,
      packagesPerNode: this.packagesPerNode,
    })) {
      if (!Number.isInteger(v) || v < 1)
        throw new InvalidArgumentError(`topology ${k} must be a positive integer, got ${describeValue(v)}`);
    }
    if (!CPU_NUMBERINGS.includes(this.numbering))
      throw new InvalidArgumentError(
        `topology numbering must be ${CPU_NUMBERINGS.join(" or ")}, got ${describeValue(this.numbering)}`,
      );
    this.nrCores = Math.ceil(nrCpus / this.threadsPerCore);
  }

  /** Core index of a CPU. */
  coreOf(cpu: number): number {
    return this.numbering === "cores-first" ? cpu % this.nrCores : Math.floor(cpu / this.threadsPerCore);
  }
  /** SMT thread index of a CPU within its core. */
  threadOf(cpu: number): number {
    return this.numbering === "cores-first" ? Math.floor(cpu / this.nrCores) : cpu % this.threadsPerCore;
  }
  /** The CPU that is thread `thread` of core `core` (-1 when that thread does not exist). */
  cpuOf(core: number, thread: number): number {
    const cpu =
      this.numbering === "cores-first" ? thread * this.nrCores + core : core * this.threadsPerCore + thread;
    return core < this.nrCores && thread < this.threadsPerCore && cpu < this.nrCpus ? cpu : -1;
  }
  /** Package (socket) of a CPU. */
  packageOf(cpu: number): number {
    return Math.floor(this.coreOf(cpu) / this.coresPerPackage);
  }
  /** Core index of a CPU within its package. */
  coreInPackage(cpu: number): number {
    return this.coreOf(cpu) % this.coresPerPackage;
  }
  /** NUMA node of a CPU. */
  nodeOf(cpu: number): number {
    return Math.floor(this.packageOf(cpu) / this.packagesPerNode);
  }
  /** Are two CPUs SMT siblings (same core)? */
  sameCore(a: number, b: number): boolean {
    return this.coreOf(a) === this.coreOf(b);
  }
  /** Same package? */
  samePackage(a: number, b: number): boolean {
    return this.packageOf(a) === this.packageOf(b);
  }
  /** Same NUMA node? */
  sameNode(a: number, b: number): boolean {
    return this.nodeOf(a) === this.nodeOf(b);
  }
  /** Number of packages. */
  get nrPackages(): number {
    return Math.floor((this.nrCores - 1) / this.coresPerPackage) + 1;
  }
  /** Number of NUMA nodes. */
  get nrNodes(): number {
    return Math.floor((this.nrPackages - 1) / this.packagesPerNode) + 1;
  }

  /** One-line description, e.g. `64 CPUs: 2 package(s) x 16 core(s) x 2 thread(s), 1 NUMA node(s)`. */
  describe(): string {
    const cores = Math.min(this.coresPerPackage, this.nrCores);
    const order = this.numbering === "cores-first" ? ", CPUs numbered cores first" : "";
    return `${this.nrCpus} CPUs: ${this.nrPackages} package(s) x ${cores} core(s) x ${this.threadsPerCore} thread(s), ${this.nrNodes} NUMA node(s)${order}`;
  }
}
