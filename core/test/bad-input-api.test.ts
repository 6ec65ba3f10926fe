import { describe, expect, it } from "@jest/globals";
import {
  ArchLoadError,
  ArchOptionError,
  CpuMask,
  InvalidArgumentError,
  InvalidStepError,
  Machine,
  SimulationError,
  SmpcallError,
  SmpKernel,
  TraceSink,
  Topology,
  UsageError,
  UserCodeError,
  describeThrown,
  createSharedMemory,
  createSmpSystem,
  toChromeTrace,
  decodeSchedule,
  explore,
  getPolicy,
  getScenario,
  getWorkload,
  loadArch,
  makeCostModel,
  parseArchOptionPairs,
  parseArchOptions,
  runLitmus,
  LITMUS_TESTS,
  runWorkload,
  type ArchDescriptor,
  type CpuCode,
  type SmpSystem,
  type SystemConfig,
} from "@smpcall/core";
import { runConformance } from "@smpcall/core/conformance";
import { descriptor as generic } from "@smpcall/arch-generic";

/**
 * Every bad input to the public API gets a typed error at the call, with a first line that says
 * what was wrong: one row per input, the error class and the start of the message.
 */

type ErrorClass = abstract new (...args: never[]) => Error;
type Case = readonly [name: string, run: () => unknown, error: ErrorClass, firstLine: RegExp];

/** Anything: the point of these rows is values of the wrong type. */
type Any = any;
const bad = (v: unknown): Any => v as Any;

const sys = (extra: Partial<SystemConfig> = {}): SmpSystem =>
  createSmpSystem({ cpus: 4, seed: 1, arch: generic, ...extra });

/** Run `body` as the program of CPU 0 of a fresh 4-CPU system (kernel calls check their arguments there). */
function inProgram(
  body: (s: SmpSystem) => CpuCode<unknown>,
  extra: Partial<SystemConfig> = {},
): () => unknown {
  return () => {
    const s = sys(extra);
    s.machine.spawn(0, body(s));
    return s.run();
  };
}

const fn = (): void => undefined;

/** A generic backend with one field replaced. */
const descriptorWith = (patch: Record<string, unknown>): ArchDescriptor => ({ ...generic, ...patch });

const CASES: readonly Case[] = [
  // ---- createSmpSystem: the config
  [
    "config undefined",
    () => createSmpSystem(bad(undefined)),
    InvalidArgumentError,
    /^the createSmpSystem config must be an object, got undefined/,
  ],
  [
    "config null",
    () => createSmpSystem(bad(null)),
    InvalidArgumentError,
    /^the createSmpSystem config must be an object, got null/,
  ],
  [
    "config an array",
    () => createSmpSystem(bad([])),
    InvalidArgumentError,
    /^the createSmpSystem config must be an object, got an array/,
  ],
  [
    "cpus missing",
    () => createSmpSystem(bad({ arch: generic })),
    InvalidArgumentError,
    /^a machine has 2\.\.8192 CPUs, got undefined/,
  ],
  ["cpus 1", () => sys({ cpus: 1 }), InvalidArgumentError, /^a machine has 2\.\.8192 CPUs, got 1$/],
  ["cpus 8193", () => sys({ cpus: 8193 }), InvalidArgumentError, /^a machine has 2\.\.8192 CPUs, got 8193/],
  ["cpus 2.5", () => sys({ cpus: 2.5 }), InvalidArgumentError, /^a machine has 2\.\.8192 CPUs, got 2\.5/],
  [
    "cpus a string",
    () => sys({ cpus: bad("8") }),
    InvalidArgumentError,
    /^a machine has 2\.\.8192 CPUs, got "8"/,
  ],
  ["cpus NaN", () => sys({ cpus: NaN }), InvalidArgumentError, /^a machine has 2\.\.8192 CPUs, got NaN/],
  [
    "cpus Infinity",
    () => sys({ cpus: Infinity }),
    InvalidArgumentError,
    /^a machine has 2\.\.8192 CPUs, got Infinity/,
  ],
  [
    "a misspelt key (seeed)",
    () => sys({ seeed: 1 } as never),
    InvalidArgumentError,
    /^unknown createSmpSystem config key "seeed"; known: arch, archOptions, trace, container, cpus, seed,/,
  ],
  [
    "a key of another API (workload)",
    () => sys({ workload: "broadcast" } as never),
    InvalidArgumentError,
    /^unknown createSmpSystem config key "workload"; known: /,
  ],
  [
    "seed -1",
    () => sys({ seed: -1 }),
    InvalidArgumentError,
    /^seed must be an integer 0\.\.4294967295, got -1/,
  ],
  [
    "seed 1.5",
    () => sys({ seed: 1.5 }),
    InvalidArgumentError,
    /^seed must be an integer 0\.\.4294967295, got 1\.5/,
  ],
  [
    "seed 2^32",
    () => sys({ seed: 2 ** 32 }),
    InvalidArgumentError,
    /^seed must be an integer 0\.\.4294967295, got 4294967296/,
  ],
  [
    "seed a string",
    () => sys({ seed: bad("1") }),
    InvalidArgumentError,
    /^seed must be an integer 0\.\.4294967295, got "1"/,
  ],
  [
    "idle spin",
    () => sys({ idle: bad("spin") }),
    InvalidArgumentError,
    /^idle must be one of halt, (mwait, )?poll, got "spin"/,
  ],
  [
    "csdLockTimeoutMs -1",
    () => sys({ csdLockTimeoutMs: -1 }),
    InvalidArgumentError,
    /^csdLockTimeoutMs must be a number 0\.\.3600000, got -1/,
  ],
  [
    "csdLockTimeoutMs NaN",
    () => sys({ csdLockTimeoutMs: NaN }),
    InvalidArgumentError,
    /^csdLockTimeoutMs must be a number 0\.\.3600000, got NaN/,
  ],
  [
    "watchdogResendIpi a string",
    () => sys({ watchdogResendIpi: bad("yes") }),
    InvalidArgumentError,
    /^watchdogResendIpi must be true or false, got "yes"/,
  ],
  [
    "trace a string",
    () => sys({ trace: bad("yes") }),
    InvalidArgumentError,
    /^trace must be true, false or a TraceSink, got "yes"/,
  ],
  [
    "topology null",
    () => sys({ topology: bad(null) }),
    InvalidArgumentError,
    /^topology must be an object, got null/,
  ],
  [
    "topology unknown key",
    () => sys({ topology: bad({ sockets: 2 }) }),
    InvalidArgumentError,
    /^unknown topology option "sockets"; known: threadsPerCore/,
  ],
  [
    "topology key constructor",
    () => sys({ topology: bad(JSON.parse('{"constructor":1}')) }),
    InvalidArgumentError,
    /^unknown topology option "constructor"/,
  ],
  [
    "topology threadsPerCore 0",
    () => sys({ topology: { threadsPerCore: 0 } }),
    InvalidArgumentError,
    /^topology threadsPerCore must be a positive integer, got 0/,
  ],
  [
    "topology threadsPerCore 1.5",
    () => sys({ topology: { threadsPerCore: 1.5 } }),
    InvalidArgumentError,
    /^topology threadsPerCore must be a positive integer, got 1\.5/,
  ],
  [
    "topology numbering bogus",
    () => sys({ topology: { numbering: bad("random") } }),
    InvalidArgumentError,
    /^topology numbering must be siblings-adjacent or cores-first, got "random"/,
  ],
  ["cost not an object", () => sys({ cost: bad(5) }), InvalidArgumentError, /^cost must be an object, got 5/],
  [
    "cost unknown figure",
    () => sys({ cost: bad({ ipiNs: 5 }) }),
    InvalidArgumentError,
    /^unknown cost model figure "ipiNs"; known: queueAddNs/,
  ],
  [
    "cost key __proto__",
    () => sys({ cost: bad(JSON.parse('{"__proto__":{"irqEntryNs":-1}}')) }),
    InvalidArgumentError,
    /^unknown cost model figure "__proto__"/,
  ],
  [
    "cost negative",
    () => sys({ cost: { irqEntryNs: -1 } }),
    InvalidArgumentError,
    /^cost model figure irqEntryNs must be a finite number >= 0, got -1/,
  ],
  [
    "cost NaN",
    () => sys({ cost: { irqEntryNs: NaN } }),
    InvalidArgumentError,
    /^cost model figure irqEntryNs must be a finite number >= 0, got NaN/,
  ],
  [
    "cost a string",
    () => sys({ cost: bad({ irqEntryNs: "5" }) }),
    InvalidArgumentError,
    /^cost model figure irqEntryNs must be a finite number >= 0, got "5"/,
  ],
  [
    "cost Infinity",
    () => sys({ cost: { haltExitNs: Infinity } }),
    InvalidArgumentError,
    /^cost model figure haltExitNs must be a finite number >= 0, got Infinity/,
  ],
  [
    "container not a container",
    () => sys({ container: bad({}) }),
    InvalidArgumentError,
    /^container must be a tsyringe DependencyContainer, got an object/,
  ],
  [
    "offlineAtBoot not an array",
    () => sys({ offlineAtBoot: bad("1") }),
    InvalidArgumentError,
    /^offlineAtBoot must be an array of CPU ids, got "1"/,
  ],
  [
    "offlineAtBoot CPU 0",
    () => sys({ offlineAtBoot: [0] }),
    InvalidArgumentError,
    /^offlineAtBoot: CPU 0 must be in 1\.\.3/,
  ],
  [
    "offlineAtBoot CPU 9",
    () => sys({ offlineAtBoot: [9] }),
    InvalidArgumentError,
    /^offlineAtBoot: CPU 9 must be in 1\.\.3/,
  ],
  [
    "chooser without methods",
    () => sys({ chooser: bad({}) }),
    InvalidArgumentError,
    /^chooser\.pickEvent must be a function, got undefined/,
  ],

  // ---- createSmpSystem: the backend and its options
  [
    "arch missing",
    () => createSmpSystem(bad({ cpus: 4 })),
    ArchLoadError,
    /^createSmpSystem needs an arch descriptor/,
  ],
  [
    "arch a name string",
    () => sys({ arch: bad("generic") }),
    ArchLoadError,
    /^createSmpSystem needs an arch descriptor/,
  ],
  [
    "arch with an empty name",
    () => sys({ arch: descriptorWith({ name: "" }) }),
    ArchLoadError,
    /exports a descriptor whose name is "", not a non-empty string/,
  ],
  [
    "arch without register",
    () => sys({ arch: descriptorWith({ register: 5 }) }),
    ArchLoadError,
    /^backend generic exports a descriptor whose register is 5, not a function/,
  ],
  [
    "arch with options null",
    () => sys({ arch: descriptorWith({ options: null }) }),
    ArchLoadError,
    /whose options is null, not an object of option specs/,
  ],
  [
    "arch option with a bad type",
    () => sys({ arch: descriptorWith({ options: { x: { type: "float", default: 1, description: "x" } } }) }),
    ArchLoadError,
    /whose option x is an object: expected \{ type: enum \| integer/,
  ],
  [
    "arch option default outside its range",
    () =>
      sys({
        arch: descriptorWith({
          options: { x: { type: "integer", min: 0, max: 5, default: 9, description: "x" } },
        }),
      }),
    ArchLoadError,
    /option x \(integer\) has default 9, which its own spec refuses/,
  ],
  [
    "arch registering nothing",
    () => sys({ arch: descriptorWith({ register: () => undefined }) }),
    ArchLoadError,
    /^arch generic did not register ArchIpiToken in register\(\)/,
  ],
  [
    "arch register throws",
    () =>
      sys({
        arch: descriptorWith({
          register: () => {
            throw new Error("nope");
          },
        }),
      }),
    UserCodeError,
    /^backend generic: register\(\) threw Error: nope/,
  ],
  [
    "arch validate throws a plain Error",
    () =>
      sys({
        arch: descriptorWith({
          validate: () => {
            throw new Error("too small");
          },
        }),
      }),
    UserCodeError,
    /^backend generic: validate\(\) threw Error: too small/,
  ],
  [
    "arch topology() throws",
    () =>
      sys({
        arch: descriptorWith({
          topology: () => {
            // eslint-disable-next-line @typescript-eslint/only-throw-error -- a backend that throws a non-Error
            throw "bad";
          },
        }),
      }),
    UserCodeError,
    /^backend generic: topology\(\) threw string bad/,
  ],
  [
    "archOptions a string",
    () => sys({ archOptions: bad("latencyNs=5") }),
    InvalidArgumentError,
    /^archOptions must be an object, got "latencyNs=5"/,
  ],
  [
    "archOptions unknown",
    () => sys({ archOptions: { nope: 1 } }),
    ArchOptionError,
    /^unknown option "nope" for arch generic; its options are: latencyNs, sendCostNs/,
  ],
  [
    "archOptions __proto__",
    () => sys({ archOptions: JSON.parse('{"__proto__":{"latencyNs":1}}') }),
    ArchOptionError,
    /^unknown option "__proto__" for arch generic/,
  ],
  [
    "archOptions constructor",
    () => sys({ archOptions: bad({ constructor: 1 }) }),
    ArchOptionError,
    /^unknown option "constructor" for arch generic/,
  ],
  [
    "archOptions negative",
    () => sys({ archOptions: { latencyNs: -5 } }),
    ArchOptionError,
    /^bad value "-5" for option latencyNs of arch generic: expected integer 0\.\.1000000/,
  ],
  [
    "archOptions text",
    () => sys({ archOptions: { latencyNs: "abc" } }),
    ArchOptionError,
    /^bad value "abc" for option latencyNs of arch generic/,
  ],
  [
    "archOptions fraction",
    () => sys({ archOptions: { latencyNs: 1.5 } }),
    ArchOptionError,
    /^bad value "1\.5" for option latencyNs of arch generic/,
  ],
  [
    "archOptions boolean for integer",
    () => sys({ archOptions: { latencyNs: true } }),
    ArchOptionError,
    /^bad value "true" for option latencyNs of arch generic/,
  ],

  // ---- option parsing helpers
  [
    "option pair without =",
    () => parseArchOptionPairs(["latencyNs"]),
    ArchOptionError,
    /^bad backend option "latencyNs": expected NAME=VALUE/,
  ],
  [
    "option pair with an empty name",
    () => parseArchOptionPairs(["=5"]),
    ArchOptionError,
    /^bad backend option "=5": expected NAME=VALUE/,
  ],
  [
    "option pair not a string",
    () => parseArchOptionPairs([bad(5)]),
    ArchOptionError,
    /^bad backend option 5: expected a "NAME=VALUE" string/,
  ],
  [
    "option given twice",
    () => parseArchOptionPairs(["latencyNs=1", "latencyNs=2"]),
    ArchOptionError,
    /^backend option latencyNs given twice \("1" and "2"\): give it once/,
  ],
  [
    "option given twice in one pair",
    () => parseArchOptionPairs(["a=1,a=2"]),
    ArchOptionError,
    /^backend option a given twice/,
  ],
  [
    "number option in hex",
    () =>
      parseArchOptions(
        "t",
        { p: { type: "number", min: 0, max: 1, default: 0, description: "p" } },
        { p: "0x1" },
      ),
    ArchOptionError,
    /^bad value "0x1" for option p of arch t: expected number 0\.\.1/,
  ],
  [
    "number option empty",
    () =>
      parseArchOptions(
        "t",
        { p: { type: "number", min: 0, max: 1, default: 0, description: "p" } },
        { p: "" },
      ),
    ArchOptionError,
    /^bad value "" for option p of arch t/,
  ],
  [
    "enum option bogus",
    () =>
      parseArchOptions(
        "t",
        { m: { type: "enum", choices: ["a", "b"], default: "a", description: "m" } },
        { m: "c" },
      ),
    ArchOptionError,
    /^bad value "c" for option m of arch t: expected a \| b/,
  ],
  [
    "boolean option bogus",
    () => parseArchOptions("t", { b: { type: "boolean", default: false, description: "b" } }, { b: "maybe" }),
    ArchOptionError,
    /^bad value "maybe" for option b of arch t: expected true \| false/,
  ],
  [
    "cpulist option malformed",
    () => parseArchOptions("t", { c: { type: "cpulist", default: "", description: "c" } }, { c: "1-" }),
    ArchOptionError,
    /^bad value "1-" for option c of arch t: expected cpulist/,
  ],

  // ---- loadArch
  [
    "loadArch unknown name",
    () => loadArch("nosuch"),
    ArchLoadError,
    /^unknown arch "nosuch" \(no package @smpcall\/arch-nosuch\); available: /,
  ],
  ["loadArch upper case", () => loadArch("X86"), ArchLoadError, /^bad arch name "X86": use a name such as/],
  ["loadArch __proto__", () => loadArch("__proto__"), ArchLoadError, /^bad arch name "__proto__"/],
  [
    "loadArch missing module",
    () => loadArch("./no-such-module.js", "/tmp"),
    ArchLoadError,
    /^arch module \.\/no-such-module\.js not found \(looked for \/tmp\/no-such-module\.js\)/,
  ],
  ["loadArch a folder", () => loadArch("/tmp/"), ArchLoadError, /^arch module \/tmp\/ is a directory/],

  // ---- the machine
  [
    "Machine without config",
    () => new Machine(bad(undefined)),
    InvalidArgumentError,
    /^the machine config must be an object, got undefined/,
  ],
  [
    "Machine of 1 CPU",
    () => new Machine({ cpus: 1 }),
    InvalidArgumentError,
    /^a machine has 2\.\.8192 CPUs, got 1/,
  ],
  [
    "seed as a bigint",
    () => sys({ seed: bad(1n) }),
    InvalidArgumentError,
    /^seed must be an integer 0\.\.4294967295, got 1n \(a bigint, not a number\)$/,
  ],
  [
    "a kernel built by hand with a negative csdLockTimeoutMs",
    () => new SmpKernel(new Machine({ cpus: 2 }), { csdLockTimeoutMs: -1 }),
    InvalidArgumentError,
    /^csdLockTimeoutMs must be >= 0 \(0 = off\), got -1$/,
  ],
  [
    "smpCallFunctionManyCond with scfFlags 99",
    inProgram((s) => s.kernel.smpCallFunctionManyCond(CpuMask.of(4, [1]), fn, null, 99)),
    InvalidArgumentError,
    /^smpCallFunctionManyCond: scfFlags must combine SCF_WAIT and SCF_RUN_LOCAL, got 99$/,
  ],
  [
    "a kernel built by hand without a backend, then called",
    () => {
      const k = new SmpKernel(new Machine({ cpus: 2 }));
      k.machine.spawn(0, k.smpCallFunctionSingle(1, fn, null, true));
      return k.machine.run({ maxEvents: 10_000 });
    },
    UsageError,
    /^no arch backend attached to the kernel: build machines with createSmpSystem\(\), or call kernel\.attachArch\(backend, name\) first$/,
  ],
  [
    "a backend attached by hand whose reschedule send is not a generator function",
    () => {
      const k = new SmpKernel(new Machine({ cpus: 2 }));
      const send = (): unknown => 5;
      k.attachArch(
        bad({ sendCallFunctionSingleIpi: send, sendCallFunctionIpiMask: send, sendRescheduleIpi: send }),
      );
      k.machine.spawn(0, k.smpSendReschedule(1));
      return k.machine.run({ maxEvents: 10_000 });
    },
    InvalidStepError,
    /^the arch backend: sendRescheduleIpi returned 5, not a generator: write it as \*sendRescheduleIpi\(\.\.\.\) \{ \.\.\. \}$/,
  ],
  [
    "a backend attached by hand whose send is not a generator function",
    () => {
      const k = new SmpKernel(new Machine({ cpus: 2 }));
      const send = (): unknown => 5;
      k.attachArch(
        bad({ sendCallFunctionSingleIpi: send, sendCallFunctionIpiMask: send, sendRescheduleIpi: send }),
      );
      k.machine.spawn(0, k.smpCallFunctionSingle(1, fn, null, true));
      return k.machine.run({ maxEvents: 10_000 });
    },
    InvalidStepError,
    /^the arch backend: sendCallFunctionSingleIpi returned 5, not a generator: write it as \*sendCallFunctionSingleIpi\(\.\.\.\) \{ \.\.\. \}$/,
  ],
  [
    "Machine trace not a sink",
    () => new Machine({ cpus: 2, trace: bad(true) }),
    InvalidArgumentError,
    /^trace must be a TraceSink, got true/,
  ],
  [
    "spawn on CPU 9",
    () => sys().machine.spawn(9, (function* () {})()),
    InvalidArgumentError,
    /^spawn: CPU 9 does not exist \(0\.\.3\)/,
  ],
  [
    "spawn on CPU -1",
    () => sys().machine.spawn(-1, (function* () {})()),
    InvalidArgumentError,
    /^spawn: CPU -1 does not exist/,
  ],
  [
    'spawn on CPU "0"',
    () => sys().machine.spawn(bad("0"), (function* () {})()),
    InvalidArgumentError,
    /^spawn: CPU "0" does not exist/,
  ],
  [
    "spawn a generator function",
    () =>
      sys().machine.spawn(
        0,
        bad(function* () {}),
      ),
    InvalidArgumentError,
    /^spawn: the program for CPU 0 must be a generator object \(call your function\* and pass what it returns\), got a function/,
  ],
  [
    "spawn a plain function result",
    () => sys().machine.spawn(0, bad(undefined)),
    InvalidArgumentError,
    /^spawn: the program for CPU 0 must be a generator object/,
  ],
  [
    "spawn an array",
    () => sys().machine.spawn(0, bad([1, 2])),
    InvalidArgumentError,
    /^spawn: the program for CPU 0 must be a generator object.*got an array/,
  ],
  [
    "run options null",
    () => sys().run(bad(null)),
    InvalidArgumentError,
    /^run options must be an object, got null/,
  ],
  [
    "run maxEvents 0",
    () => sys().run({ maxEvents: 0 }),
    InvalidArgumentError,
    /^maxEvents must be a number >= 1, got 0/,
  ],
  [
    "run maxEvents a string",
    () => sys().run({ maxEvents: bad("5") }),
    InvalidArgumentError,
    /^maxEvents must be a number >= 1, got "5"/,
  ],
  [
    "run maxEvents NaN",
    () => sys().run({ maxEvents: NaN }),
    InvalidArgumentError,
    /^maxEvents must be a number >= 1, got NaN/,
  ],
  [
    "run onProgress not a function",
    () => sys().run({ onProgress: bad(5) }),
    InvalidArgumentError,
    /^onProgress must be a function, got 5/,
  ],
  [
    "run progressEvery 0",
    () => sys().run({ progressEvery: 0 }),
    InvalidArgumentError,
    /^progressEvery must be an integer 1\.\./,
  ],
  [
    "smpProcessorId outside CPU code",
    () => sys().machine.smpProcessorId(),
    SimulationError,
    /^smpProcessorId\(\) called outside code running on a simulated CPU/,
  ],
  [
    "raise at CPU 9 outside CPU code",
    () => sys().machine.raise(9, 0, 10),
    InvalidStepError,
    /raised an interrupt at CPU 9 which does not exist \(0\.\.3\)/,
  ],
  [
    "raise line 32",
    () => sys().machine.raise(1, 32, 10),
    InvalidStepError,
    /raised interrupt line 32 which does not exist \(lines are 0\.\.31\)/,
  ],
  [
    "raise with delay NaN",
    () => sys().machine.raise(1, 0, NaN),
    InvalidStepError,
    /raised an interrupt with delay NaN: a delay must be a number of ns/,
  ],
  [
    "raise with delay -1",
    () => sys().machine.raise(1, 0, -1),
    InvalidStepError,
    /raised an interrupt with delay -1/,
  ],
  [
    "raise sent after -5 ns",
    () => sys().machine.raise(1, 0, 10, -5),
    InvalidStepError,
    /raised an interrupt sent after -5 ns: the time before the signal leaves must be a number of ns 0\.\./,
  ],
  [
    "schedule with delay Infinity",
    () => sys().machine.schedule(Infinity, fn),
    InvalidStepError,
    /scheduled a hardware callback with delay Infinity/,
  ],
  [
    "schedule a non-function",
    () => sys().machine.schedule(10, bad("later")),
    InvalidStepError,
    /scheduled a hardware callback that is "later", not a function/,
  ],
  [
    "onCpuBoot a non-function",
    () => sys().machine.onCpuBoot(bad(null)),
    InvalidStepError,
    /registered a boot hook that is null, not a function/,
  ],
  [
    "isPending of CPU 9",
    () => sys().machine.isPending(9, 0),
    InvalidStepError,
    /asked isPending of CPU 9 which does not exist/,
  ],
  [
    "pendingCount of line -1",
    () => sys().machine.pendingCount(0, -1),
    InvalidStepError,
    /asked pendingCount of line -1 which does not exist/,
  ],
  [
    "clearPending of line 1.5",
    () => sys().machine.clearPending(0, 1.5),
    InvalidStepError,
    /asked clearPending of line 1\.5/,
  ],
  [
    "isRunning of CPU 4",
    () => sys().machine.isRunning(4),
    InvalidStepError,
    /asked isRunning of CPU 4 which does not exist \(0\.\.3\)/,
  ],
  [
    "setCountingLines a string",
    () => sys().machine.setCountingLines(bad("1")),
    InvalidArgumentError,
    /^setCountingLines: the line mask must be an integer 0\.\.4294967295 \(bit n = line n\), got "1"/,
  ],
  [
    "setCountingLines negative",
    () => sys().machine.setCountingLines(-1),
    InvalidArgumentError,
    /^setCountingLines: the line mask must be an integer/,
  ],
  [
    "setTrapLines a fraction",
    () => sys().machine.setTrapLines(0.5),
    InvalidArgumentError,
    /^setTrapLines: the line mask must be an integer/,
  ],
  [
    "reportProblem without a message",
    () => sys().machine.reportProblem(bad({ kind: "arch-error" })),
    InvalidStepError,
    /reported a problem that is an object; report \{ kind, time, cpu\?, message \}/,
  ],
  [
    "a program yields a string",
    inProgram(() =>
      (function* (): Any {
        yield "ten";
      })(),
    ),
    InvalidStepError,
    /^the program on CPU 0 yielded "ten": yield a number of ns or a Wait/,
  ],
  [
    "a program yields -1",
    inProgram(() =>
      (function* (): CpuCode<void> {
        yield -1;
      })(),
    ),
    InvalidStepError,
    /^the program on CPU 0 yielded -1: a step cost must be a number of ns/,
  ],
  [
    "a program yields NaN",
    inProgram(() =>
      (function* (): CpuCode<void> {
        yield NaN;
      })(),
    ),
    InvalidStepError,
    /^the program on CPU 0 yielded NaN/,
  ],
  [
    "a program yields Infinity",
    inProgram(() =>
      (function* (): CpuCode<void> {
        yield Infinity;
      })(),
    ),
    InvalidStepError,
    /^the program on CPU 0 yielded Infinity/,
  ],
  [
    "a program throws",
    inProgram(() =>
      (function* (): CpuCode<void> {
        yield 1;
        throw new RangeError("oops");
      })(),
    ),
    UserCodeError,
    /^the program on CPU 0 threw RangeError: oops \(t=1 ns\)/,
  ],
  [
    "a program throws a string",
    inProgram(() =>
      (function* (): CpuCode<void> {
        yield 1;
        // eslint-disable-next-line @typescript-eslint/only-throw-error -- a program that throws a non-Error
        throw "oops";
      })(),
    ),
    UserCodeError,
    /^the program on CPU 0 threw string oops/,
  ],
  [
    "run again after a crash",
    () => {
      const s = sys();
      s.machine.spawn(
        0,
        (function* (): CpuCode<void> {
          yield NaN;
        })(),
      );
      try {
        s.run();
      } catch {
        /* the crash */
      }
      return s.run();
    },
    SimulationError,
    /^this machine stopped at t=0 ns because the program on CPU 0 yielded NaN/,
  ],

  // ---- kernel calls (checked when the program calls them)
  [
    "single to CPU 1.5",
    inProgram((s) => s.kernel.smpCallFunctionSingle(1.5, fn, null, true)),
    InvalidArgumentError,
    /^smpCallFunctionSingle: cpu must be an integer CPU id, got /,
  ],
  [
    'single to CPU "1"',
    inProgram((s) => s.kernel.smpCallFunctionSingle(bad("1"), fn, null, true)),
    InvalidArgumentError,
    /^smpCallFunctionSingle: cpu must be an integer CPU id, got /,
  ],
  [
    "single with a non-function",
    inProgram((s) => s.kernel.smpCallFunctionSingle(1, bad("fn"), null, true)),
    InvalidArgumentError,
    /^smpCallFunctionSingle: func must be a function, got "fn"/,
  ],
  [
    'single with wait "yes"',
    inProgram((s) => s.kernel.smpCallFunctionSingle(1, fn, null, bad("yes"))),
    InvalidArgumentError,
    /^smpCallFunctionSingle: wait must be true or false, got "yes"/,
  ],
  [
    "many with a mask of another size",
    inProgram((s) => s.kernel.smpCallFunctionMany(CpuMask.of(8, [1]), fn, null, true)),
    InvalidArgumentError,
    /^smpCallFunctionMany: mask has 8 CPU ids but the machine has 4: build it with new CpuMask\(4\)/,
  ],
  [
    "many with an array for a mask",
    inProgram((s) => s.kernel.smpCallFunctionMany(bad([1, 2]), fn, null, true)),
    InvalidArgumentError,
    /^smpCallFunctionMany: mask must be a CpuMask \(e\.g\. CpuMask\.of\(4, \[1, 2\]\)\), got an array/,
  ],
  [
    "many with a non-function",
    inProgram((s) => s.kernel.smpCallFunctionMany(CpuMask.of(4, [1]), bad(null), null, true)),
    InvalidArgumentError,
    /^smpCallFunctionMany: func must be a function, got null/,
  ],
  [
    "smpCallFunction with wait 1",
    inProgram((s) => s.kernel.smpCallFunction(fn, null, bad(1))),
    InvalidArgumentError,
    /^smpCallFunction\w*: wait must be true or false, got 1/,
  ],
  [
    "onEachCpu with a non-function",
    inProgram((s) => s.kernel.onEachCpu(bad({}), null, true)),
    InvalidArgumentError,
    /^onEachCpu\w*: func must be a function, got an object/,
  ],
  [
    "onEachCpuCond with a non-function condition",
    inProgram((s) => s.kernel.onEachCpuCond(bad(5), fn, null, true)),
    InvalidArgumentError,
    /^onEachCpuCond: condFunc must be a function or null, got 5/,
  ],
  [
    "onEachCpuMask with a mask of another size",
    inProgram((s) => s.kernel.onEachCpuMask(new CpuMask(2), fn, null, true)),
    InvalidArgumentError,
    /^onEachCpuMask: mask has 2 CPU ids but the machine has 4/,
  ],
  [
    "smpCallFunctionAny with a mask of another size",
    inProgram((s) => s.kernel.smpCallFunctionAny(new CpuMask(16), fn, null, true)),
    InvalidArgumentError,
    /^smpCallFunctionAny: mask has 16 CPU ids but the machine has 4/,
  ],
  [
    "async single with a csd that is not one",
    inProgram((s) => s.kernel.smpCallFunctionSingleAsync(1, bad({ func: fn }))),
    InvalidArgumentError,
    /^smpCallFunctionSingleAsync: csd must come from kernel\.initCsd\(func, info\), got an object/,
  ],
  [
    "smpSendReschedule to CPU 1.5",
    inProgram((s) => s.kernel.smpSendReschedule(1.5)),
    InvalidArgumentError,
    /^smpSendReschedule: cpu must be an integer CPU id, got 1\.5/,
  ],
  [
    "initCsd with a func that is not a function",
    () => sys().kernel.initCsd(bad("f"), null),
    InvalidArgumentError,
    /^initCsd: func must be a function, got "f"/,
  ],
  [
    "initIrqWork with a func that is not a function",
    () => sys().kernel.initIrqWork(bad(7)),
    InvalidArgumentError,
    /^initIrqWork: func must be a function, got 7/,
  ],
  [
    "initTask with an onWake that is not a function",
    () => sys().kernel.initTask("t", bad({})),
    InvalidArgumentError,
    /^initTask: onWake must be a function, got an object/,
  ],
  [
    "ttwuQueueWakelist to CPU 1.5",
    inProgram((s) => s.kernel.ttwuQueueWakelist(1.5, s.kernel.initTask("t"))),
    InvalidArgumentError,
    /^ttwuQueueWakelist: cpu must be an integer CPU id, got 1\.5/,
  ],
  [
    "irqWorkQueueOn to CPU 1.5",
    inProgram((s) => s.kernel.irqWorkQueueOn(s.kernel.initIrqWork(fn), 1.5)),
    InvalidArgumentError,
    /^irqWorkQueueOn: cpu must be an integer CPU id, got 1\.5/,
  ],
  [
    "irqWorkQueueOn to CPU -1",
    inProgram((s) => s.kernel.irqWorkQueueOn(s.kernel.initIrqWork(fn), -1)),
    InvalidArgumentError,
    /^irqWorkQueueOn: CPU -1 does not exist \(0\.\.3\)$/,
  ],
  [
    "smpCallFunctionManyCond with a mask that is not one",
    inProgram((s) => s.kernel.smpCallFunctionManyCond(bad([1]), fn, null, 1)),
    InvalidArgumentError,
    /^smpCallFunctionManyCond: mask must be a CpuMask/,
  ],
  [
    "smpCallFunctionManyCond with a func that is not a function",
    inProgram((s) => s.kernel.smpCallFunctionManyCond(CpuMask.of(4, [1]), bad(null), null, 1)),
    InvalidArgumentError,
    /^smpCallFunctionManyCond: func must be a function, got null/,
  ],
  [
    "smpCallFunctionManyCond with a condFunc that is not a function",
    inProgram((s) => s.kernel.smpCallFunctionManyCond(CpuMask.of(4, [1]), fn, null, 1, bad(true))),
    InvalidArgumentError,
    /^smpCallFunctionManyCond: condFunc must be a function or null, got true/,
  ],
  [
    "smpCallFunctionManyCond with scfFlags 1.5",
    inProgram((s) => s.kernel.smpCallFunctionManyCond(CpuMask.of(4, [1]), fn, null, 1.5)),
    InvalidArgumentError,
    /^smpCallFunctionManyCond: scfFlags must combine SCF_WAIT and SCF_RUN_LOCAL, got 1\.5$/,
  ],
  [
    "onEachCpuCondMask with a mask of another size",
    inProgram((s) => s.kernel.onEachCpuCondMask(null, fn, null, true, new CpuMask(8))),
    InvalidArgumentError,
    /^onEachCpuCondMask: mask has 8 CPU ids but the machine has 4/,
  ],
  [
    "a kernel call outside CPU code",
    () => sys().kernel.smpCallFunctionSingle(1, fn, null, true).next(),
    SimulationError,
    /^smpProcessorId\(\) called outside code running on a simulated CPU/,
  ],
  [
    "a callback throws",
    inProgram((s) =>
      s.kernel.smpCallFunctionSingle(
        1,
        function flush() {
          throw new Error("cb");
        },
        null,
        true,
      ),
    ),
    UserCodeError,
    /^callback flush on CPU 1 threw Error: cb/,
  ],

  // ---- masks
  [
    "CpuMask of 0 CPUs",
    () => new CpuMask(0),
    InvalidArgumentError,
    /^a CpuMask holds 1\.\.1048576 CPU ids \(the machine's CPU count\), got 0/,
  ],
  [
    "CpuMask of 2.5 CPUs",
    () => new CpuMask(2.5),
    InvalidArgumentError,
    /^a CpuMask holds 1\.\.1048576 CPU ids.*got 2\.5/,
  ],
  [
    "CpuMask.of a CPU outside",
    () => CpuMask.of(8, [9]),
    InvalidArgumentError,
    /^CPU 9 is outside the mask \(0-7\)/,
  ],
  [
    "CpuMask.of a fraction",
    () => CpuMask.of(8, [1.5]),
    InvalidArgumentError,
    /^CPU 1\.5 is outside the mask \(0-7\)/,
  ],
  [
    "CpuMask.parse a dangling range",
    () => CpuMask.parse(8, "1-"),
    InvalidArgumentError,
    /^bad cpulist part "1-" in "1-": expected N or N-M/,
  ],
  [
    "CpuMask.parse a reversed range",
    () => CpuMask.parse(8, "3-1"),
    InvalidArgumentError,
    /^cpulist part "3-1" is outside 0-7/,
  ],
  [
    "CpuMask.parse a CPU outside",
    () => CpuMask.parse(8, "8"),
    InvalidArgumentError,
    /^cpulist part "8" is outside 0-7/,
  ],

  [
    "CpuMask.and with a narrower mask",
    () => new CpuMask(64).and(new CpuMask(64), new CpuMask(8)),
    InvalidArgumentError,
    /^CpuMask\.and: the masks must have the same width: this one has 64 CPU ids, the other 8/,
  ],
  [
    "CpuMask.or with an array",
    () => new CpuMask(8).or(new CpuMask(8), bad([1])),
    InvalidArgumentError,
    /^CpuMask\.or: the masks must have the same width: this one has 8 CPU ids, the other is an array/,
  ],
  [
    "CpuMask.isSubsetOf a wider mask",
    () => new CpuMask(8).isSubsetOf(new CpuMask(64)),
    InvalidArgumentError,
    /^CpuMask\.isSubsetOf: the masks must have the same width/,
  ],
  [
    "CpuMask.copyFrom null",
    () => new CpuMask(8).copyFrom(bad(null)),
    InvalidArgumentError,
    /^CpuMask\.copyFrom: the masks must have the same width: this one has 8 CPU ids, the other is null/,
  ],
  [
    "CpuMask.of a number",
    () => CpuMask.of(8, bad(5)),
    InvalidArgumentError,
    /^CpuMask\.of needs a list of CPU ids, got 5/,
  ],
  [
    "CpuMask.parse a number",
    () => CpuMask.parse(8, bad(5)),
    InvalidArgumentError,
    /^a cpulist is a string such as "0-3,8", got 5/,
  ],

  // ---- other entry points
  [
    "loadArch a number",
    () => loadArch(bad(5)),
    ArchLoadError,
    /^loadArch needs a backend name \(such as generic\) or a module path, got 5/,
  ],
  [
    "parseArchOptions with a number",
    () => parseArchOptions("generic", generic.options, bad(5)),
    ArchOptionError,
    /^options for arch generic must be an object of NAME: value, got 5/,
  ],
  [
    "createSharedMemory pso",
    () => createSharedMemory(bad("pso"), 2, bad({})),
    InvalidArgumentError,
    /^unknown memory model "pso": use sc, tso, lkmm/,
  ],
  [
    "toChromeTrace of null",
    () => toChromeTrace(bad(null), { cpus: 2 }),
    InvalidArgumentError,
    /^toChromeTrace: records must be an array of trace records, got null/,
  ],
  [
    "createSmpSystem kernel bogus",
    () => sys(bad({ kernel: "bogus" })),
    InvalidArgumentError,
    /^kernel must be one of "6\.1", "mainline"/,
  ],
  [
    "createSmpSystem lockdep a string",
    () => sys(bad({ lockdep: "yes" })),
    InvalidArgumentError,
    /^lockdep must be true or false, got "yes"/,
  ],
  [
    "makeCostModel negative",
    () => makeCostModel({ callbackNs: -1 }),
    InvalidArgumentError,
    /^cost model figure callbackNs must be a finite number >= 0, got -1/,
  ],
  [
    "makeCostModel null",
    () => makeCostModel(bad(null)),
    InvalidArgumentError,
    /^cost must be an object of figures, got null/,
  ],
  [
    "Topology of 0 threads per core",
    () => new Topology(8, { threadsPerCore: 0 }),
    InvalidArgumentError,
    /^topology threadsPerCore must be a positive integer, got 0/,
  ],
  [
    "TraceSink limit 0",
    () => new TraceSink(true, 0),
    InvalidArgumentError,
    /^trace limit must be a number of records >= 1, got 0/,
  ],
  ["getWorkload unknown", () => getWorkload("nope"), UsageError, /^unknown workload "nope"/],
  ["getWorkload __proto__", () => getWorkload("__proto__"), UsageError, /^unknown workload "__proto__"/],
  [
    "runWorkload workload a number",
    () => runWorkload({ cpus: 4, arch: generic, workload: bad(5) }),
    InvalidArgumentError,
    /^workload must be a workload name, got 5/,
  ],
  [
    "runWorkload ops 0",
    () => runWorkload({ cpus: 4, arch: generic, ops: 0 }),
    InvalidArgumentError,
    /^ops must be an integer 1\.\.10000000, got 0/,
  ],
  [
    "runWorkload maxEvents -1",
    () => runWorkload({ cpus: 4, arch: generic, maxEvents: -1 }),
    InvalidArgumentError,
    /^maxEvents must be a number >= 1, got -1/,
  ],
  ["getScenario unknown", () => getScenario("nope"), UsageError, /^unknown scenario "nope"/],
  [
    "getScenario constructor",
    () => getScenario("constructor"),
    UsageError,
    /^unknown scenario "constructor"/,
  ],
  ["getPolicy unknown", () => getPolicy("toString"), UsageError, /^unknown policy "toString"/],
  [
    "decodeSchedule garbage",
    () => decodeSchedule("garbage"),
    UsageError,
    /expected a string starting "smp2,"/,
  ],
  [
    "decodeSchedule truncated",
    () => decodeSchedule("smp2,scenario=seed-2008"),
    UsageError,
    /truncated: the schedule ends without its "policy" field/,
  ],
  [
    "decodeSchedule not a string",
    () => decodeSchedule(bad(5)),
    UsageError,
    /^bad schedule 5: expected a string starting "smp2,"/,
  ],
  [
    "explore with 0 runs",
    () =>
      explore({
        scenario: getScenario("seed-2008"),
        policy: getPolicy("naive"),
        arch: generic,
        cpus: 2,
        calls: 1,
        strategy: "random",
        runs: 0,
        maxSteps: 1000,
        seed: 1,
      }),
    InvalidArgumentError,
    /^runs must be an integer 1\.\.\d+, got 0/,
  ],
  [
    "explore with strategy bogus",
    () =>
      explore({
        scenario: getScenario("seed-2008"),
        policy: getPolicy("naive"),
        arch: generic,
        cpus: 2,
        calls: 1,
        strategy: bad("bfs"),
        runs: 1,
        maxSteps: 1000,
        seed: 1,
      }),
    InvalidArgumentError,
    /^strategy must be one of random, pct, dfs, got "bfs"/,
  ],
  [
    "explore without a config",
    () => explore(bad(undefined)),
    InvalidArgumentError,
    /^the explore config must be an object, got undefined/,
  ],
  [
    "explore with a policy name",
    () =>
      explore({
        scenario: getScenario("seed-2008"),
        policy: bad("naive"),
        arch: generic,
        cpus: 2,
        calls: 1,
        strategy: "random",
        runs: 1,
        maxSteps: 1000,
        seed: 1,
      }),
    InvalidArgumentError,
    /^policy must be a CallPolicy \(getPolicy\(name\)\), got "naive"/,
  ],
  [
    "explore with a scenario name",
    () =>
      explore({
        scenario: bad("seed-2008"),
        policy: getPolicy("naive"),
        arch: generic,
        cpus: 2,
        calls: 1,
        strategy: "random",
        runs: 1,
        maxSteps: 1000,
        seed: 1,
      }),
    InvalidArgumentError,
    /^scenario must be a Scenario/,
  ],
  [
    "explore with allocFailRate 2",
    () =>
      explore({
        scenario: getScenario("seed-2008"),
        policy: getPolicy("naive"),
        arch: generic,
        cpus: 2,
        calls: 1,
        strategy: "random",
        runs: 1,
        maxSteps: 1000,
        seed: 1,
        allocFailRate: 2,
      }),
    InvalidArgumentError,
    /^allocFailRate must be a number 0\.\.1, got 2/,
  ],
  [
    "explore with 1 CPU",
    () =>
      explore({
        scenario: getScenario("seed-2008"),
        policy: getPolicy("naive"),
        arch: generic,
        cpus: 1,
        calls: 1,
        strategy: "random",
        runs: 1,
        maxSteps: 1000,
        seed: 1,
      }),
    InvalidArgumentError,
    /^cpus \(scenario seed-2008\) must be an integer 2\.\.8, got 1/,
  ],
  [
    "runLitmus unknown model",
    () => runLitmus(LITMUS_TESTS[0], bad("pso")),
    InvalidArgumentError,
    /^runLitmus: model must be one of sc, tso, lkmm, got "pso"/,
  ],
  [
    "runLitmus not a test",
    () => runLitmus(bad(null), "sc"),
    InvalidArgumentError,
    /^runLitmus: test must be a LitmusTest/,
  ],
  [
    "runLitmus 0 executions",
    () => runLitmus(LITMUS_TESTS[0], "sc", 0),
    InvalidArgumentError,
    /^runLitmus: maxExecutions must be an integer 1\.\./,
  ],
  [
    "runConformance without a descriptor",
    () => runConformance(bad(null)),
    InvalidArgumentError,
    /^runConformance: descriptor must be an ArchDescriptor/,
  ],
  [
    "runConformance with 1-CPU machines",
    () => runConformance(generic, { cpuSizes: [1] }),
    InvalidArgumentError,
    /^runConformance: cpuSizes\[0\] must be an integer 2\.\.8192, got 1/,
  ],
  [
    "runConformance with 0 schedules",
    () => runConformance(generic, { schedules: 0 }),
    InvalidArgumentError,
    /^runConformance: schedules must be an integer 1\.\.10000, got 0/,
  ],
  [
    "runConformance options not an object",
    () => runConformance(generic, bad("all")),
    InvalidArgumentError,
    /^runConformance: options must be an object, got "all"/,
  ],
  [
    "runConformance with an empty cpuSizes",
    () => runConformance(generic, { cpuSizes: [] }),
    InvalidArgumentError,
    /^runConformance: cpuSizes must be a non-empty array of CPU counts 2\.\.8192, got an array/,
  ],
  [
    "runConformance with an unknown check",
    () => runConformance(generic, { only: ["no-such-check"] }),
    InvalidArgumentError,
    /^runConformance: unknown check "no-such-check" in only; checks: descriptor-valid/,
  ],
  [
    "runConformance with a negative budget",
    () => runConformance(generic, { eventBudget: -1 }),
    InvalidArgumentError,
    /^runConformance: eventBudget must be an integer 1\.\.\d+, got -1/,
  ],
];

describe("bad input to the public API: a typed error at the call, with a clear first line", () => {
  it("has at least 150 rows across this table and the CLI's", () => {
    expect(CASES.length).toBeGreaterThanOrEqual(100);
  });

  it.each(CASES.map((c) => [c[0], c] as const))("%s", (_name, [, run, error, firstLine]) => {
    let thrown: unknown = null;
    try {
      run();
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(error);
    expect(thrown).toBeInstanceOf(SmpcallError);
    const first = String((thrown as Error).message).split("\n")[0];
    expect(first).toMatch(firstLine);
    expect(first).not.toMatch(/Cannot read properties|is not a function|undefined is not/);
  });
});

describe("describeThrown names whatever user code threw, even a value that throws as it is read", () => {
  const getterThrows = (field: "message" | "name") => {
    const e = new Error("x");
    Object.defineProperty(e, field, {
      get() {
        throw new Error(`${field} getter`);
      },
    });
    return e;
  };
  it.each([
    ["an Error", new RangeError("too far\nsecond line"), "RangeError: too far"],
    ["a string", "boom", "string boom"],
    [
      "an Error whose message getter throws",
      getterThrows("message"),
      "an Error whose name or message cannot be read",
    ],
    [
      "an Error whose name getter throws",
      getterThrows("name"),
      "an Error whose name or message cannot be read",
    ],
    [
      "an object whose toString throws",
      {
        toString: () => {
          throw new Error("no");
        },
      },
      "object",
    ],
    [
      "a Proxy that throws on every read",
      new Proxy(
        {},
        {
          get: () => {
            throw new Error("trap");
          },
          getPrototypeOf: () => {
            throw new Error("trap");
          },
        },
      ),
      "object",
    ],
  ])("%s", (_name, value, expected) => {
    expect(describeThrown(value)).toBe(expected);
  });
});
