import { SCAFFOLD_DEV_TOOLS } from "./toolchain";
import { ipiClassName } from "./names";

/** What the scaffold's files depend on: the backend's name and the smpcall versions to require. */
export interface ScaffoldInput {
  /** The backend's name (`--arch NAME`, package `@smpcall/arch-NAME`). */
  readonly name: string;
  /** Version of @smpcall/core to depend on (`^` range). */
  readonly coreVersion: string;
  /** Version of @smpcall/examples (the `smpcall` CLI) for the dev scripts. */
  readonly cliVersion: string;
  /** tsyringe and reflect-metadata versions, as @smpcall/core pins them. */
  readonly tsyringeVersion: string;
  readonly reflectMetadataVersion: string;
}

/** The scaffold's files: path relative to the package folder -> content. */
export function scaffoldFiles(input: ScaffoldInput): Record<string, string> {
  return {
    "package.json": packageJson(input),
    "tsconfig.json": tsconfigJson(),
    "jest.config.js": jestConfig(),
    ".gitignore": "node_modules\ndist\n",
    "src/index.ts": indexTs(input),
    "test/conformance.test.ts": conformanceTest(),
    "README.md": readme(input),
  };
}

function packageJson(i: ScaffoldInput): string {
  const pkg = {
    name: `@smpcall/arch-${i.name}`,
    version: "0.1.0",
    private: true,
    description: `smpcall backend: ${i.name} (describe the hardware's IPIs here)`,
    engines: { node: ">=20.19.0" },
    main: "dist/index.js",
    types: "dist/index.d.ts",
    exports: {
      ".": { types: "./dist/index.d.ts", default: "./dist/index.js" },
      "./package.json": "./package.json",
    },
    files: ["dist"],
    scripts: {
      build: "tsc -p tsconfig.json",
      test: "jest",
      conform: "npm run build && smpcall conform --arch ./dist/index.js",
      start: "npm run build && smpcall run --arch ./dist/index.js --cpus 64 --workload broadcast",
      prepack: "npm run build",
    },
    dependencies: {
      "@smpcall/core": `^${i.coreVersion}`,
      "reflect-metadata": i.reflectMetadataVersion,
      tsyringe: i.tsyringeVersion,
    },
    devDependencies: { "@smpcall/examples": `^${i.cliVersion}`, ...SCAFFOLD_DEV_TOOLS },
  };
  return JSON.stringify(pkg, null, 2) + "\n";
}

function tsconfigJson(): string {
  const config = {
    compilerOptions: {
      target: "ES2022",
      module: "nodenext",
      moduleResolution: "nodenext",
      lib: ["ES2022"],
      types: [],
      strict: true,
      noImplicitOverride: true,
      // tsyringe's @injectable()/@inject() need legacy decorators and their metadata.
      experimentalDecorators: true,
      emitDecoratorMetadata: true,
      declaration: true,
      sourceMap: true,
      skipLibCheck: true,
      rootDir: "src",
      outDir: "dist",
    },
    include: ["src"],
  };
  return JSON.stringify(config, null, 2) + "\n";
}

function jestConfig(): string {
  return `/** Tests run the TypeScript sources through SWC (legacy decorators + metadata, as tsyringe needs). */
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: "node",
  testMatch: ["<rootDir>/test/**/*.test.ts"],
  transform: {
    "^.+\\\\.ts$": [
      "@swc/jest",
      {
        jsc: {
          parser: { syntax: "typescript", decorators: true },
          transform: { legacyDecorator: true, decoratorMetadata: true },
          target: "es2022",
        },
        module: { type: "commonjs" },
      },
    ],
  },
};
`;
}

function conformanceTest(): string {
  return `import { runConformanceSuite } from "@smpcall/core/conformance/jest";
import { descriptor } from "../src";

// Every check of the conformance kit that applies to the descriptor's capabilities (PORTING.md §6).
runConformanceSuite(descriptor);
`;
}

function indexTs(i: ScaffoldInput): string {
  const cls = ipiClassName(i.name);
  return `import "reflect-metadata"; // tsyringe needs the metadata polyfill loaded first (PORTING.md §3)
import { Lifecycle, inject, injectable } from "tsyringe";
import {
  ArchIpiToken,
  ArchOptionsToken,
  InterconnectToken,
  MachineToken,
  SmpHandlersToken,
  type ArchDescriptor,
  type ArchIpi,
  type ArchOptionValues,
  type ArchStatistics,
  type CpuCode,
  type CpuMask,
  type Interconnect,
  type Machine,
  type SmpHandlers,
} from "@smpcall/core";

/** Interrupt line of call-function IPIs (lines 0..31 per CPU; a lower line is taken first). */
export const LINE_CALL_FUNCTION = 0;
/** Interrupt line of reschedule IPIs. */
export const LINE_RESCHEDULE = 1;

/**
 * The ${i.name} IPI hardware: how an IPI is sent and how it is taken (PORTING.md §2).
 * As generated, a minimal backend that passes the conformance kit: one raise per target, a
 * fixed latency, one acknowledgement per interrupt. The "PORT:" comments mark where the real
 * hardware's behaviour goes, each with the PORTING.md section that explains it.
 */
@injectable()
export class ${cls} implements ArchIpi {
  private readonly latencyNs: number;
  private readonly sendCostNs: number;
  // Counters, read by statistics(): plain fields, no per-send allocation.
  private raises = 0;
  private interrupts = 0;
  private acks = 0;
  private rescheduleIpis = 0;

  constructor(
    @inject(InterconnectToken) private readonly wires: Interconnect,
    @inject(SmpHandlersToken) private readonly smp: SmpHandlers,
    @inject(MachineToken) private readonly machine: Machine,
    @inject(ArchOptionsToken) options: ArchOptionValues,
  ) {
    // PORT: more machine facilities (TraceToken, FaultInjectorToken): PORTING.md §3 "What the machine offers".
    this.latencyNs = options.latencyNs as number;
    this.sendCostNs = options.sendCostNs as number;
    // PORT: per-CPU hardware state (latches, busy-until times) in typed arrays of
    // machine.nrCpus entries, allocated here once: PORTING.md §5 "Modelling a hardware quirk".
  }

  /** arch_send_call_function_ipi_mask: runs on the sending CPU; \`yield ns\` spends its time. */
  *sendCallFunctionIpiMask(mask: CpuMask): CpuCode<void> {
    // PORT: multicast (one write reaching several CPUs: raise each target, yield the cost once)
    // or broadcast shortcuts (only when they reach exactly this mask): PORTING.md §5 and §2.
    // Then set capabilities.multicast.
    const n = mask.nrCpuIds;
    for (let cpu = mask.first(); cpu < n; cpu = mask.next(cpu)) {
      this.raise(cpu, LINE_CALL_FUNCTION);
      yield this.sendCostNs;
    }
  }

  /** arch_send_call_function_single_ipi. */
  *sendCallFunctionSingleIpi(cpu: number): CpuCode<void> {
    this.raise(cpu, LINE_CALL_FUNCTION);
    yield this.sendCostNs;
  }

  /** smp_send_reschedule. */
  *sendRescheduleIpi(cpu: number): CpuCode<void> {
    this.raise(cpu, LINE_RESCHEDULE);
    this.rescheduleIpis++;
    yield this.sendCostNs;
  }

  private raise(cpu: number, line: number): void {
    // PORT: busy-waits, transient failures (NACK, would-block: faults.chance, back off, retry)
    // and permanent failures (wires.reportProblem): PORTING.md §5 "Modelling a hardware quirk".
    // PORT: an offline target: with capabilities.offlineDelivery "dropped", check
    // machine.cpus[cpu].online and do not raise: PORTING.md §5 (offlineDelivery).
    this.wires.raise(cpu, line, this.latencyNs);
    this.raises++;
  }

  /** The interrupt entry: hard-IRQ context, interrupts off. */
  *handleInterrupt(_cpu: number, line: number): CpuCode<void> {
    this.interrupts++;
    // PORT: acknowledge the hardware exactly once per taken interrupt (EOI, msgclr, queue head);
    // several messages in one interrupt (muxed words): handle each. PORTING.md §2 "The two sides", receive side.
    this.acks++;
    if (line === LINE_CALL_FUNCTION) yield* this.smp.genericSmpCallFunctionInterrupt();
    else if (line === LINE_RESCHEDULE) this.smp.schedulerIpi();
  }

  /** Names for the ipi_entry/ipi_exit tracepoints. */
  lineName(line: number): string {
    if (line === LINE_CALL_FUNCTION) return "Function call interrupts";
    if (line === LINE_RESCHEDULE) return "Rescheduling interrupts";
    return \`line \${line}\`;
  }

  /** The backend's counters (\`smpcall run\` prints them; the kit checks the declared ones). */
  statistics(): ArchStatistics {
    return {
      raises: this.raises,
      interrupts: this.interrupts,
      acks: this.acks,
      rescheduleIpis: this.rescheduleIpis,
      cpus: this.machine.nrCpus,
    };
  }
}

/** The ${i.name} backend: \`smpcall run --arch ./dist/index.js\`. */
export const descriptor: ArchDescriptor = {
  name: ${JSON.stringify(i.name)},
  description: ${JSON.stringify(`${i.name}: one raise per target, fixed latency (scaffold: describe the hardware here)`)},
  // PORT: the hardware's own options and costs: PORTING.md §4 "Options".
  options: {
    latencyNs: { type: "integer", min: 0, max: 1_000_000, default: 1000, description: "delivery latency of an IPI, ns" },
    sendCostNs: { type: "integer", min: 0, max: 1_000_000, default: 100, description: "sender cost of one raise, ns" },
  },
  // PORT: the idle modes your kernel has and whether it defines TIF_POLLING_NRFLAG (PORTING.md §1).
  idleModes: ["halt", "poll"],
  idlePollingFlag: true,
  // PORT: what the kit should check: PORTING.md §5 (capabilities) and §6.
  capabilities: {
    multicast: false,
    transientFaults: false,
    permanentFaults: false,
    offlineDelivery: "pending",
    ackStatistic: "acks",
    raiseStatistic: "raises",
    // PORT: the counter of hardware signals you send, one per target CPU signalled; the run
    // report shows it as "hardware signals" beside the core's "IPIs requested": PORTING.md §5.
    signalStatistic: "raises",
    // PORT: the least send-to-interrupt time your model gives (here a raise after latencyNs);
    // the kit's causality check holds the backend to it: PORTING.md §5 (minDeliveryLatencyNs).
    minDeliveryLatencyNs: (o) => o.latencyNs as number,
  },
  // PORT: add validate(options, machine) to refuse option combinations the machine cannot take
  // (throw ArchOptionError saying what to use instead): PORTING.md §4 "Options".
  register(container) {
    container.register(ArchIpiToken, { useClass: ${cls} }, { lifecycle: Lifecycle.ContainerScoped });
  },
};

export default descriptor;
`;
}

function readme(i: ScaffoldInput): string {
  return `# @smpcall/arch-${i.name}

An smpcall backend for ${i.name}: how this hardware sends and takes inter-processor interrupts.
Generated by \`smpcall new-arch ${i.name}\`: it already works (one raise per target, a fixed
latency) and passes the conformance kit; the \`PORT:\` comments in \`src/index.ts\` mark where the
hardware's behaviour goes, each pointing at the section of smpcall's PORTING.md that explains it.

## Build and test

\`\`\`sh
npm install
npm run build        # tsc: src/ -> dist/
npm test             # jest: the conformance kit (test/conformance.test.ts), one test per check
\`\`\`

## Run it

\`\`\`sh
npx smpcall run --arch ./dist/index.js --cpus 64 --workload broadcast
npx smpcall run --arch ./dist/index.js --arch-opt latencyNs=5000 --trace run.json
npx smpcall conform --arch ./dist/index.js          # the kit as a table; exit 0 only if all pass
npx smpcall archs --arch ./dist/index.js            # its options and capabilities
\`\`\`

\`smpcall\` comes from the dev dependency \`@smpcall/examples\`. Published as
\`@smpcall/arch-${i.name}\` (remove \`"private": true\` and add a licence first), it is found by name:
\`smpcall run --arch ${i.name}\`.
`;
}
