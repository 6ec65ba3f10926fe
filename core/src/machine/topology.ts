/**
 * The machine's shape: CPUs grouped into SMT threads of a core, cores of a package (socket),
 * packages of a NUMA node. CPU ids are dense and assigned thread-first: CPU n is thread
 * `n % threadsPerCore` of core `floor(n / threadsPerCore)`.
 */
export interface TopologyOptions {
  /** SMT threads per core (default 2). */
  threadsPerCore?: number;
  /** Cores per package/socket (default: 16, or fewer so small machines have one package). */
  coresPerPackage?: number;
  /** Packages per NUMA node (default 1). */
  packagesPerNode?: number;
}

/** The CPU topology of one machine (see the file comment for the numbering). */
export class Topology {
  readonly threadsPerCore: number;
  readonly coresPerPackage: number;
  readonly packagesPerNode: number;

  constructor(
    readonly nrCpus: number,
    options: TopologyOptions = {},
  ) {
    this.threadsPerCore = options.threadsPerCore ?? (nrCpus % 2 === 0 ? 2 : 1);
    this.coresPerPackage = options.coresPerPackage ?? 16;
    this.packagesPerNode = options.packagesPerNode ?? 1;
    for (const [k, v] of Object.entries({
      threadsPerCore: this.threadsPerCore,
      coresPerPackage: this.coresPerPackage,
      packagesPerNode: this.packagesPerNode,
    })) {
      if (!Number.isInteger(v) || v < 1)
        throw new RangeError(`topology ${k} must be a positive integer, got ${v}`);
    }
  }

  /** Core index of a CPU. */
  coreOf(cpu: number): number {
    return Math.floor(cpu / this.threadsPerCore);
  }
  /** SMT thread index of a CPU within its core. */
  threadOf(cpu: number): number {
    return cpu % this.threadsPerCore;
  }
  /** Package (socket) of a CPU. */
  packageOf(cpu: number): number {
    return Math.floor(this.coreOf(cpu) / this.coresPerPackage);
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
  /** Number of NUMA nodes. */
  get nrNodes(): number {
    return this.nodeOf(this.nrCpus - 1) + 1;
  }

  /** One-line description, e.g. `64 CPUs: 2 packages x 16 cores x 2 threads, 1 node(s)`. */
  describe(): string {
    const packages = this.packageOf(this.nrCpus - 1) + 1;
    const cores = Math.min(this.coresPerPackage, this.coreOf(this.nrCpus - 1) + 1);
    return `${this.nrCpus} CPUs: ${packages} package(s) x ${cores} core(s) x ${this.threadsPerCore} thread(s), ${this.nrNodes} NUMA node(s)`;
  }
}
