import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { main } from "../src/cli/main";
import { memoryIo } from "../src/cli/io";
import { classifyFailure } from "../src/cli/failure";
import { writeBadModules } from "./bad-input-fixtures";
import { MAX_MODULE_FILE_BYTES, SimulationError, UsageError, UserCodeError } from "@smpcall/core";
import { CONFORMANCE_CHECKS } from "@smpcall/core/conformance";

/** The kit's checks in their order, as the unknown-check message lists them. */
const CHECK_NAMES = CONFORMANCE_CHECKS.map((c) => c.name).join(", ");

/**
 * Every bad input to the CLI gets a clear answer: one row per input, the exit status (2 usage
 * error, 1 user code or a run problem) and the whole first line of stderr. All rows run in this
 * process through `main` with an in-memory io, in a temporary folder holding the files they name
 * (`<DIR>` in a message is that folder). No row may print a stack, write to stdout, or take long.
 */
type Row = readonly [args: readonly string[], code: 1 | 2, firstLine: string, env?: Record<string, string>];

/** Inputs that are a device, not a file (rows on systems with /dev/zero). */
const DEVICE_ROWS: readonly Row[] = [
  [
    ["replay", "--schedule-file", "/dev/zero"],
    2,
    "smpcall: cannot read replay file /dev/zero: it is a character device, not a file",
  ],
  [
    ["report", "--trace", "/dev/zero", "--out", "o.html"],
    2,
    "smpcall: cannot read trace /dev/zero: it is a character device, not a file",
  ],
  [
    ["explore", "merge", "/dev/zero"],
    2,
    "smpcall: shard file /dev/zero could not be read: it is a character device, not a file",
  ],
  [
    ["run", "--ops", "10", "--arch", "/dev/zero"],
    2,
    "smpcall: arch module /dev/zero is a character device, not a file; give the path of a .js file that exports an ArchDescriptor",
  ],
  [
    ["explore", "--scenario", "/dev/zero"],
    2,
    "smpcall: scenario module /dev/zero is a character device, not a file; give the path of a .js file that exports a Scenario",
  ],
];

const ROWS: readonly Row[] = [
  [
    ["run", "--ops", "10", "--trace-limit", "5"],
    2,
    "smpcall: --trace-limit needs --trace FILE or --html FILE (it limits what they keep)",
  ],
  [["new-arch", "ok", "--dir", ""], 2, 'smpcall: bad --dir "": give the folder to write the package to'],
  // A kernel call with a bad argument from the user's module: exit 1 naming the module, not 70.
  [
    ["explore", "--scenario", "./scenario-bad-kernel-call.js"],
    1,
    "smpcall: ./scenario-bad-kernel-call.js: smpCallFunctionSingle: cpu must be an integer CPU id, got 1.5 (at ./scenario-bad-kernel-call.js:9:57)",
  ],
  [["run", "--ops", "10", "--cpus", ""], 2, 'smpcall: bad --cpus "": expected an integer 2..8192'],
  [["run", "--ops", "10", "--cpus", " x"], 2, 'smpcall: bad --cpus " x": expected an integer 2..8192'],
  [["run", "--ops", "10", "--cpus", "8.0"], 2, 'smpcall: bad --cpus "8.0": expected an integer 2..8192'],
  [["run", "--ops", "10", "--cpus", "1e3"], 2, 'smpcall: bad --cpus "1e3": expected an integer 2..8192'],
  [["run", "--ops", "10", "--cpus", "0x10"], 2, 'smpcall: bad --cpus "0x10": expected an integer 2..8192'],
  [["run", "--ops", "10", "--cpus", "-1"], 2, 'smpcall: bad --cpus "-1": expected an integer 2..8192'],
  [["run", "--ops", "10", "--cpus", "1"], 2, 'smpcall: bad --cpus "1": expected an integer 2..8192'],
  [["run", "--ops", "10", "--cpus", "8193"], 2, 'smpcall: bad --cpus "8193": expected an integer 2..8192'],
  [
    ["run", "--ops", "10", "--cpus", "Infinity"],
    2,
    'smpcall: bad --cpus "Infinity": expected an integer 2..8192',
  ],
  [["run", "--ops", "10", "--cpus", "NaN"], 2, 'smpcall: bad --cpus "NaN": expected an integer 2..8192'],
  [["run", "--ops", "10", "--cpus", "abc"], 2, 'smpcall: bad --cpus "abc": expected an integer 2..8192'],
  [
    ["run", "--ops", "10", "--cpus", "9007199254740993"],
    2,
    'smpcall: bad --cpus "9007199254740993": expected an integer 2..8192',
  ],
  [["run", "--ops", "10", "--seed", "-1"], 2, 'smpcall: bad --seed "-1": expected an integer 0..4294967295'],
  [
    ["run", "--ops", "10", "--seed", "4294967296"],
    2,
    'smpcall: bad --seed "4294967296": expected an integer 0..4294967295',
  ],
  [
    ["run", "--ops", "10", "--seed", "1.5"],
    2,
    'smpcall: bad --seed "1.5": expected an integer 0..4294967295',
  ],
  [["run", "--ops", "10", "--seed", "x"], 2, 'smpcall: bad --seed "x": expected an integer 0..4294967295'],
  [["run", "--ops", "10", "--seed", ""], 2, 'smpcall: bad --seed "": expected an integer 0..4294967295'],
  [["run", "--ops", "0"], 2, 'smpcall: bad --ops "0": expected an integer 1..10000000'],
  [["run", "--ops", "10000001"], 2, 'smpcall: bad --ops "10000001": expected an integer 1..10000000'],
  [["run", "--ops", "ten"], 2, 'smpcall: bad --ops "ten": expected an integer 1..10000000'],
  [
    ["run", "--ops", "10", "--max-events", "0"],
    2,
    'smpcall: bad --max-events "0": expected an integer 1..9007199254740991',
  ],
  [
    ["run", "--ops", "10", "--max-events", "1.5"],
    2,
    'smpcall: bad --max-events "1.5": expected an integer 1..9007199254740991',
  ],
  [
    ["run", "--ops", "10", "--csd-timeout-ms", "-1"],
    2,
    'smpcall: bad --csd-timeout-ms "-1": expected an integer 0..3600000',
  ],
  [
    ["run", "--ops", "10", "--csd-timeout-ms", "3600001"],
    2,
    'smpcall: bad --csd-timeout-ms "3600001": expected an integer 0..3600000',
  ],
  [
    ["run", "--ops", "10", "--trace-limit", "0"],
    2,
    'smpcall: bad --trace-limit "0": expected an integer 1..100000000',
  ],
  [["run", "--ops", "10", "--trace-format", "chrome"], 2, "smpcall: --trace-format needs --trace FILE"],
  [
    ["run", "--ops", "10", "--trace", "t.json", "--trace-format", "perfetto"],
    2,
    "smpcall: option '--trace-format <format>' argument 'perfetto' is invalid. Allowed choices are ftrace, chrome. (see --help)",
  ],
  [
    ["run", "--ops", "10", "--idle", "bogus"],
    2,
    "smpcall: option '--idle <mode>' argument 'bogus' is invalid. Allowed choices are halt, mwait, poll. (see --help)",
  ],
  [
    ["run", "--ops", "10", "--workload", "bogus"],
    2,
    "smpcall: option '--workload <name>' argument 'bogus' is invalid. Allowed choices are mixed, broadcast, single-storm, tlb-shootdown, sched-wakeups. (see --help)",
  ],
  [
    ["run", "--ops", "10", "--workload", "__proto__"],
    2,
    "smpcall: option '--workload <name>' argument '__proto__' is invalid. Allowed choices are mixed, broadcast, single-storm, tlb-shootdown, sched-wakeups. (see --help)",
  ],
  [["run", "--ops", "10", "--foo"], 2, "smpcall: unknown option '--foo' (see --help)"],
  [["frobnicate"], 2, "smpcall: unknown command 'frobnicate' (see --help)"],
  [["run", "--ops", "10", "--cpus"], 2, "smpcall: option '--cpus <n>' argument missing (see --help)"],
  [
    ["run", "extra-arg"],
    2,
    "smpcall: too many arguments for 'run'. Expected 0 arguments but got 1. (see --help)",
  ],
  [
    ["run", "--ops", "10", "--arch-opt", "latencyNs"],
    2,
    'smpcall: bad backend option "latencyNs": expected NAME=VALUE, e.g. --arch-opt apic=physflat',
  ],
  [
    ["run", "--ops", "10", "--arch-opt", "=5"],
    2,
    'smpcall: bad backend option "=5": expected NAME=VALUE, e.g. --arch-opt apic=physflat',
  ],
  [
    ["run", "--ops", "10", "--arch-opt", "latencyNs="],
    2,
    'smpcall: bad value "" for option latencyNs of arch generic: expected integer 0..1000000',
  ],
  [
    ["run", "--ops", "10", "--arch-opt", "latencyNs=abc"],
    2,
    'smpcall: bad value "abc" for option latencyNs of arch generic: expected integer 0..1000000',
  ],
  [
    ["run", "--ops", "10", "--arch-opt", "latencyNs=1e3"],
    2,
    'smpcall: bad value "1e3" for option latencyNs of arch generic: expected integer 0..1000000',
  ],
  [
    ["run", "--ops", "10", "--arch-opt", "latencyNs=-1"],
    2,
    'smpcall: bad value "-1" for option latencyNs of arch generic: expected integer 0..1000000',
  ],
  [
    ["run", "--ops", "10", "--arch-opt", "latencyNs=1.5"],
    2,
    'smpcall: bad value "1.5" for option latencyNs of arch generic: expected integer 0..1000000',
  ],
  [
    ["run", "--ops", "10", "--arch-opt", "latencyNs=0x10"],
    2,
    'smpcall: bad value "0x10" for option latencyNs of arch generic: expected integer 0..1000000',
  ],
  [
    ["run", "--ops", "10", "--arch-opt", "latencyNs=5,garbage"],
    2,
    'smpcall: bad value "5,garbage" for option latencyNs of arch generic: expected integer 0..1000000',
  ],
  [
    ["run", "--ops", "10", "--arch-opt", "__proto__=1"],
    2,
    'smpcall: unknown option "__proto__" for arch generic; its options are: latencyNs, sendCostNs',
  ],
  [
    ["run", "--ops", "10", "--arch-opt", "constructor=1"],
    2,
    'smpcall: unknown option "constructor" for arch generic; its options are: latencyNs, sendCostNs',
  ],
  [
    ["run", "--ops", "10", "--arch-opt", "prototype=1"],
    2,
    'smpcall: unknown option "prototype" for arch generic; its options are: latencyNs, sendCostNs',
  ],
  [
    ["run", "--ops", "10", "--arch-opt", "__defineGetter__=1"],
    2,
    'smpcall: unknown option "__defineGetter__" for arch generic; its options are: latencyNs, sendCostNs',
  ],
  [
    ["run", "--ops", "10", "--arch-opt", "valueOf=1"],
    2,
    'smpcall: unknown option "valueOf" for arch generic; its options are: latencyNs, sendCostNs',
  ],
  [
    ["run", "--ops", "10", "--arch-opt", "hasOwnProperty=1"],
    2,
    'smpcall: unknown option "hasOwnProperty" for arch generic; its options are: latencyNs, sendCostNs',
  ],
  [
    ["run", "--ops", "10", "--arch-opt", "toString=x"],
    2,
    'smpcall: unknown option "toString" for arch generic; its options are: latencyNs, sendCostNs',
  ],
  [
    ["run", "--ops", "10", "--arch-opt", "nosuch=1"],
    2,
    'smpcall: unknown option "nosuch" for arch generic; its options are: latencyNs, sendCostNs',
  ],
  [
    ["run", "--ops", "10", "--arch-opt", "latencyNs=1", "--arch-opt", "latencyNs=2"],
    2,
    'smpcall: backend option latencyNs given twice ("1" and "2"): give it once',
  ],
  [
    ["run", "--cpus=3", "--cpus=4"],
    2,
    'smpcall: --cpus given twice ("3" and "4"): give it once (see --help)',
  ],
  [
    ["explore", "--scenario", "seed-2008", "--strategy", "dfs", "--strategy", "random"],
    2,
    'smpcall: --strategy given twice ("dfs" and "random"): give it once (see --help)',
  ],
  [
    ["run", "--ops", "10", "--trace", "a.json", "--trace", "b.json"],
    2,
    'smpcall: --trace given twice ("a.json" and "b.json"): give it once (see --help)',
  ],
  [
    ["run", "--ops", "10", "--arch-opt", "latencyNs=1,latencyNs=2"],
    2,
    'smpcall: backend option latencyNs given twice ("1" and "2"): give it once',
  ],
  [
    ["run", "--ops", "10", "--arch", "x86", "--cpus", "64", "--arch-opt", "apic=flat"],
    2,
    "smpcall: apic=flat (xAPIC flat logical mode) addresses at most 8 CPUs, this machine has 64: use apic=physflat, x2apic-cluster or x2apic-phys (or auto)",
  ],
  [
    ["run", "--ops", "10", "--arch", "x86", "--arch-opt", "apic=bogus"],
    2,
    'smpcall: bad value "bogus" for option apic of arch x86: expected auto | flat | physflat | x2apic-cluster | x2apic-phys',
  ],
  [
    ["run", "--ops", "10", "--arch", "x86", "--arch-opt", "pvIpi=TRUE"],
    2,
    'smpcall: bad value "TRUE" for option pvIpi of arch x86: expected true | false',
  ],
  [
    ["run", "--ops", "10", "--arch", "x86", "--arch-opt", "cpuNumbering=random"],
    2,
    'smpcall: bad value "random" for option cpuNumbering of arch x86: expected siblings-adjacent | cores-first',
  ],
  [
    ["run", "--ops", "10", "--arch", "powerpc", "--arch-opt", "platform=bogus"],
    2,
    'smpcall: bad value "bogus" for option platform of arch powerpc: expected powernv-power8 | powernv-power9 | pseries-powervm-xive | pseries-powervm-xics | pseries-kvm-xive | pseries-kvm-xics | mpic-2008',
  ],
  [
    ["run", "--ops", "10", "--arch", "powerpc", "--arch-opt", "threadsPerCore=3"],
    2,
    'smpcall: bad value "3" for option threadsPerCore of arch powerpc: expected 1 | 2 | 4 | 8',
  ],
  [
    ["run", "--ops", "10", "--arch", "sparc", "--arch-opt", "errorCpus=99"],
    2,
    'smpcall: bad value "99" for option errorCpus of arch sparc: cpulist part "99" is outside 0-7',
  ],
  [
    ["run", "--ops", "10", "--arch", "sparc", "--arch-opt", "errorCpus=1-"],
    2,
    'smpcall: bad value "1-" for option errorCpus of arch sparc: expected cpulist, e.g. 3,5-7',
  ],
  [
    ["run", "--ops", "10", "--arch", "sparc", "--arch-opt", "errorCpus=3-1"],
    2,
    'smpcall: bad value "3-1" for option errorCpus of arch sparc: cpulist part "3-1" is outside 0-7',
  ],
  [
    ["run", "--ops", "10", "--arch", "sparc", "--arch-opt", "errorCpus=1,99"],
    2,
    'smpcall: bad value "1,99" for option errorCpus of arch sparc: cpulist part "99" is outside 0-7',
  ],
  [
    ["run", "--ops", "10", "--arch", "sparc", "--arch-opt", "nackRate=1"],
    2,
    'smpcall: bad value "1" for option nackRate of arch sparc: expected number 0..0.99',
  ],
  [
    ["run", "--ops", "10", "--arch", "sparc", "--arch-opt", "nackRate=0x0"],
    2,
    'smpcall: bad value "0x0" for option nackRate of arch sparc: expected number 0..0.99',
  ],
  [
    ["run", "--ops", "10", "--arch", "sparc", "--arch-opt", "wouldBlockRate=-0.1"],
    2,
    'smpcall: bad value "-0.1" for option wouldBlockRate of arch sparc: expected number 0..1',
  ],
  [
    ["run", "--ops", "10", "--arch", "sparc", "--arch-opt", "platform=sun4w"],
    2,
    'smpcall: bad value "sun4w" for option platform of arch sparc: expected sun4v | sun4u-cheetah | sun4u-spitfire',
  ],
  [
    ["run", "--ops", "10", "--arch", ""],
    2,
    'smpcall: bad --arch "": give a backend name (generic, powerpc, sparc, x86) or a module path like ./my-arch.js',
  ],
  [
    ["run", "--ops", "10", "--arch", "X86"],
    2,
    'smpcall: bad arch name "X86": use a name such as generic, powerpc, sparc, x86, or a module path like ./my-arch.js',
  ],
  [
    ["run", "--ops", "10", "--arch", "__proto__"],
    2,
    'smpcall: bad arch name "__proto__": use a name such as generic, powerpc, sparc, x86, or a module path like ./my-arch.js',
  ],
  [
    ["run", "--ops", "10", "--arch", "constructor"],
    2,
    'smpcall: unknown arch "constructor" (no package @smpcall/arch-constructor); available: generic, powerpc, sparc, x86',
  ],
  [
    ["run", "--ops", "10", "--arch", "../nope/x.js"],
    2,
    "smpcall: arch module ../nope/x.js not found (looked for /tmp/nope/x.js); give a path to a .js file that exports an ArchDescriptor",
  ],
  [
    ["run", "--ops", "10", "--arch", "./nonexistent.js"],
    2,
    "smpcall: arch module ./nonexistent.js not found (looked for <DIR>/nonexistent.js); give a path to a .js file that exports an ArchDescriptor",
  ],
  [
    ["run", "--ops", "10", "--arch", "."],
    2,
    'smpcall: bad arch name ".": use a name such as generic, powerpc, sparc, x86, or a module path like ./my-arch.js',
  ],
  [
    ["run", "--ops", "10", "--arch", "adir/"],
    2,
    "smpcall: arch module adir/ is a directory; give the path of a .js file that exports an ArchDescriptor",
  ],
  [
    ["run", "--ops", "10"],
    2,
    'smpcall: unknown arch "nosuch" (no package @smpcall/arch-nosuch); available: generic, powerpc, sparc, x86 (from $SMPCALL_ARCH: set it to one, or unset it)',
    { SMPCALL_ARCH: "nosuch" },
  ],
  [
    ["run", "--ops", "10"],
    2,
    "smpcall: arch module ./nonexistent.js not found (looked for <DIR>/nonexistent.js); give a path to a .js file that exports an ArchDescriptor (from $SMPCALL_ARCH: set it to one, or unset it)",
    { SMPCALL_ARCH: "./nonexistent.js" },
  ],
  // The command line names no backend: the line says where the name came from (as archs does).
  [
    ["explore", "--scenario", "seed-2008"],
    2,
    'smpcall: unknown arch "nosuch" (no package @smpcall/arch-nosuch); available: generic, powerpc, sparc, x86 (from $SMPCALL_ARCH: set it to one, or unset it)',
    { SMPCALL_ARCH: "nosuch" },
  ],
  [
    ["conform", "--check", "descriptor-valid"],
    2,
    "smpcall: arch module /dev/null is a character device, not a file; give the path of a .js file that exports an ArchDescriptor (from $SMPCALL_ARCH: set it to one, or unset it)",
    { SMPCALL_ARCH: "/dev/null" },
  ],
  [
    ["run", "--ops", "10", "--arch", "nosuch"],
    2,
    'smpcall: unknown arch "nosuch" (no package @smpcall/arch-nosuch); available: generic, powerpc, sparc, x86',
    { SMPCALL_ARCH: "x86" },
  ],
  [
    ["run", "--ops", "20", "--arch", "./arch-load-throws.js"],
    1,
    "smpcall: arch module ./arch-load-throws.js failed to load: Error: boom while loading (at ./arch-load-throws.js:1:7)",
  ],
  [
    ["run", "--ops", "20", "--arch", "./arch-syntax-error.js"],
    1,
    "smpcall: arch module ./arch-syntax-error.js failed to load: SyntaxError: Unexpected end of input",
  ],
  [
    ["run", "--ops", "20", "--arch", "./arch-no-descriptor.js"],
    2,
    'smpcall: arch module ./arch-no-descriptor.js does not export a backend: export an ArchDescriptor as "descriptor" or as the default export',
  ],
  [
    ["run", "--ops", "20", "--arch", "./arch-register-throws.js"],
    1,
    "smpcall: backend broken (./arch-register-throws.js): register() threw RangeError: register exploded (at ./arch-register-throws.js:24:22)",
  ],
  [
    ["run", "--ops", "20", "--arch", "./arch-ctor-throws.js"],
    1,
    "smpcall: backend broken (./arch-ctor-throws.js): resolving ArchIpiToken threw Error: no APIC found (at ./arch-ctor-throws.js:6:40)",
  ],
  [
    ["run", "--ops", "20", "--arch", "./arch-send-throws.js"],
    1,
    "smpcall: backend broken (./arch-send-throws.js) in sendCallFunctionSingleIpi on CPU 0 threw TypeError: Cannot set properties of undefined (setting 'icr') (t=616 ns) (at ./arch-send-throws.js:6:68)",
  ],
  [
    ["run", "--ops", "20", "--arch", "./arch-send-throws-string.js"],
    1,
    "smpcall: backend broken (./arch-send-throws-string.js) in sendCallFunctionSingleIpi on CPU 0 threw string string thrown (t=616 ns)",
  ],
  [
    ["run", "--ops", "20", "--arch", "./arch-handler-throws.js"],
    1,
    "smpcall: backend broken (./arch-handler-throws.js) in handleInterrupt (line 0) on CPU 2 threw Error: bad vector (t=2185 ns) (at ./arch-handler-throws.js:6:28)",
  ],
  [
    ["run", "--ops", "20", "--arch", "./arch-send-not-generator.js"],
    1,
    "smpcall: backend broken (./arch-send-not-generator.js): sendCallFunctionSingleIpi returned undefined, not a generator: write it as *sendCallFunctionSingleIpi(...) { ... }",
  ],
  [
    ["run", "--ops", "20", "--arch", "./arch-yields-nan.js"],
    1,
    "smpcall: backend broken (./arch-yields-nan.js) in sendCallFunctionSingleIpi on CPU 0 yielded NaN: a step cost must be a number of ns 0..1000000000000000 (t=616 ns)",
  ],
  [
    ["run", "--ops", "20", "--arch", "./arch-raise-bad-line.js"],
    1,
    "smpcall: backend broken (./arch-raise-bad-line.js) in sendCallFunctionSingleIpi on CPU 0 raised interrupt line 40 which does not exist (lines are 0..31) (t=616 ns)",
  ],
  [
    ["run", "--ops", "20", "--arch", "./arch-stats-throws.js"],
    1,
    "smpcall: backend broken (./arch-stats-throws.js): statistics() threw Error: stats unavailable (at ./arch-stats-throws.js:6:22)",
  ],
  [
    ["run", "--ops", "20", "--arch", "./arch-stats-string.js"],
    1,
    'smpcall: backend broken (./arch-stats-string.js): statistics() returned "lots": return an object of counters, e.g. { ipisRaised: 3 }',
  ],
  [
    ["run", "--ops", "20", "--arch", "./arch-validate-throws-error.js"],
    1,
    "smpcall: backend broken (./arch-validate-throws-error.js): validate() threw Error: this machine is too small (at ./arch-validate-throws-error.js:24:22)",
  ],
  [
    ["run", "--ops", "20", "--arch", "./arch-bad-name.js"],
    2,
    'smpcall: arch module ./arch-bad-name.js exports a descriptor whose name is "", not a non-empty string (see PORTING.md)',
  ],
  [
    ["run", "--ops", "20", "--arch", "./arch-bad-option-default.js"],
    2,
    "smpcall: backend x (./arch-bad-option-default.js) exports a descriptor whose option n (integer) has default 9, which its own spec refuses (see PORTING.md)",
  ],
  [
    ["archs", "--arch", "./arch-load-throws.js"],
    1,
    "smpcall: arch module ./arch-load-throws.js failed to load: Error: boom while loading (at ./arch-load-throws.js:1:7)",
  ],
  [
    ["archs", "--arch", "./arch-bad-name.js"],
    2,
    'smpcall: arch module ./arch-bad-name.js exports a descriptor whose name is "", not a non-empty string (see PORTING.md)',
  ],
  [
    ["explore", "--scenario", "seed-2008", "--arch", "./arch-send-throws.js"],
    1,
    "smpcall: backend broken (./arch-send-throws.js) in sendCallFunctionSingleIpi on CPU 0 threw TypeError: Cannot set properties of undefined (setting 'icr') (t=40 ns) (at ./arch-send-throws.js:6:68)",
  ],
  [
    ["explore", "--scenario", "seed-2008", "--arch", "./arch-handler-throws.js"],
    1,
    "smpcall: backend broken (./arch-handler-throws.js) in handleInterrupt (line 0) on CPU 1 threw Error: bad vector (t=3040 ns) (at ./arch-handler-throws.js:6:28)",
  ],
  [
    ["explore", "--scenario", "./scenario-load-throws.js"],
    1,
    "smpcall: scenario module ./scenario-load-throws.js failed to load: TypeError: scenario module broke (at ./scenario-load-throws.js:1:7)",
  ],
  [
    ["explore", "--scenario", "./scenario-not-scenario.js"],
    2,
    'smpcall: scenario module ./scenario-not-scenario.js does not export a scenario: export { name, description, defaultCpus, setup(ctx) } as "scenario" or default (see docs/explorer.md)',
  ],
  [
    ["explore", "--scenario", "./scenario-setup-throws.js"],
    1,
    "smpcall: ./scenario-setup-throws.js threw Error: setup failed (at ./scenario-setup-throws.js:9:11)",
  ],
  [
    ["explore", "--scenario", "./scenario-setup-throws-string.js"],
    1,
    "smpcall: scenario module ./scenario-setup-throws-string.js: setup threw string not an Error",
  ],
  [
    ["explore", "--scenario", "./scenario-program-throws.js"],
    1,
    "smpcall: the program on CPU 0 threw TypeError: Cannot read properties of null (reading 'x') (t=10 ns) (at ./scenario-program-throws.js:9:47)",
  ],
  [
    ["explore", "--scenario", "./scenario-program-throws-string.js"],
    1,
    "smpcall: the program on CPU 0 threw number 42 (t=10 ns) [user code: scenario module ./scenario-program-throws-string.js]",
  ],
  [
    ["explore", "--scenario", "./scenario-invariant-number.js"],
    1,
    "smpcall: scenario module ./scenario-invariant-number.js: invariant 0 returned 7: return a message (string) for a violation, or null",
  ],
  [
    ["explore", "--scenario", "./scenario-spawn-not-generator.js"],
    1,
    "smpcall: ./scenario-spawn-not-generator.js: spawn: the program for CPU 0 must be a generator object (call your function* and pass what it returns), got a function (at ./scenario-spawn-not-generator.js:9:7)",
  ],
  [
    ["explore", "--scenario", "./scenario-yields-string.js"],
    1,
    'smpcall: the program on CPU 0 yielded "ten": yield a number of ns or a Wait (for kernel calls use yield*, not yield) (t=0 ns) [user code: scenario module ./scenario-yields-string.js]',
  ],
  [
    ["explore", "--scenario", "./scenario-bad-cpus.js"],
    2,
    "smpcall: scenario module ./scenario-bad-cpus.js: minCpus 4 and maxCpus 2 must be integers with 2 <= minCpus <= maxCpus <= 64 (see docs/explorer.md)",
  ],
  [
    ["explore", "--scenario", "./nonexistent.js"],
    2,
    "smpcall: scenario module ./nonexistent.js could not be loaded: no such file (looked for <DIR>/nonexistent.js); give the path of a .js file",
  ],
  [
    ["explore", "--scenario", "adir/"],
    2,
    "smpcall: scenario module adir/ is a folder; give the path of a .js file that exports a Scenario",
  ],
  [
    ["explore", "--scenario", "seed-2008", "--runs", "0"],
    2,
    'smpcall: bad --runs "0": expected an integer 1..100000000',
  ],
  [
    ["explore", "--scenario", "seed-2008", "--runs", "x"],
    2,
    'smpcall: bad --runs "x": expected an integer 1..100000000',
  ],
  [
    ["explore", "--scenario", "seed-2008", "--max-steps", "5"],
    2,
    'smpcall: bad --max-steps "5": expected an integer 10..100000000',
  ],
  [
    ["explore", "--scenario", "seed-2008", "--pct-depth", "0"],
    2,
    'smpcall: bad --pct-depth "0": expected an integer 1..64',
  ],
  [
    ["explore", "--scenario", "seed-2008", "--preemption-bound", "x"],
    2,
    'smpcall: bad --preemption-bound "x": expected an integer 0..1000, or none',
  ],
  [
    ["explore", "--scenario", "seed-2008", "--preemption-bound", "-1"],
    2,
    'smpcall: bad --preemption-bound "-1": expected an integer 0..1000, or none',
  ],
  [
    ["explore", "--scenario", "seed-2008", "--preemption-bound", "1001"],
    2,
    'smpcall: bad --preemption-bound "1001": expected an integer 0..1000, or none',
  ],
  [
    ["explore", "--scenario", "seed-2008", "--fault-bound", "x"],
    2,
    'smpcall: bad --fault-bound "x": expected an integer 0..1000, or none',
  ],
  [
    ["explore", "--scenario", "seed-2008", "--fault-bound", "1001"],
    2,
    'smpcall: bad --fault-bound "1001": expected an integer 0..1000, or none',
  ],
  [
    ["explore", "--scenario", "seed-2008", "--alloc-fail", "2"],
    2,
    'smpcall: bad --alloc-fail "2": expected a probability 0..1',
  ],
  [
    ["explore", "--scenario", "seed-2008", "--alloc-fail", "abc"],
    2,
    'smpcall: bad --alloc-fail "abc": expected a probability 0..1',
  ],
  [
    ["explore", "--scenario", "seed-2008", "--alloc-fail", ""],
    2,
    'smpcall: bad --alloc-fail "": expected a probability 0..1',
  ],
  [
    ["explore", "--scenario", "seed-2008", "--alloc-fail", "0x1"],
    2,
    'smpcall: bad --alloc-fail "0x1": expected a probability 0..1',
  ],
  [
    ["explore", "--scenario", "seed-2008", "--alloc-fail", "-0"],
    2,
    'smpcall: bad --alloc-fail "-0": expected a probability 0..1',
  ],
  [
    ["explore", "--scenario", "seed-2008", "--strategy", "bogus"],
    2,
    "smpcall: option '--strategy <name>' argument 'bogus' is invalid. Allowed choices are random, pct, dfs. (see --help)",
  ],
  [
    ["explore", "--scenario", "seed-2008", "--calls", "0"],
    2,
    'smpcall: bad --calls "0": expected an integer 1..64',
  ],
  [
    ["explore", "--scenario", "seed-2008", "--calls", "65"],
    2,
    'smpcall: bad --calls "65": expected an integer 1..64',
  ],
  [
    ["explore", "--scenario", "seed-2008", "--cpus", "1"],
    2,
    'smpcall: bad --cpus "1": expected an integer 2..8',
  ],
  [
    ["explore", "--scenario", "seed-2008", "--cpus", "9"],
    2,
    'smpcall: bad --cpus "9": expected an integer 2..8',
  ],
  [
    ["explore", "--scenario", "seed-2008", "--policy", ""],
    2,
    'smpcall: unknown policy ""; choose one of: naive, global-lock, target-mask, percpu-counters, mask-on-alloc-failure, poll-own-queue, modern, or all',
  ],
  [
    ["explore", "--scenario", "seed-2008", "--policy", "all,naive"],
    2,
    'smpcall: unknown policy "all,naive"; choose one of: naive, global-lock, target-mask, percpu-counters, mask-on-alloc-failure, poll-own-queue, modern, or all',
  ],
  [
    ["explore", "--scenario", "seed-2008", "--policy", "constructor"],
    2,
    'smpcall: unknown policy "constructor"; choose one of: naive, global-lock, target-mask, percpu-counters, mask-on-alloc-failure, poll-own-queue, modern, or all',
  ],
  [
    ["explore", "--scenario", "seed-2008", "--seed", "-1"],
    2,
    'smpcall: bad --seed "-1": expected an integer 0..4294967295',
  ],
  [
    ["explore", "--scenario", "seed-2008", "--arch-opt", "__proto__=1"],
    2,
    'smpcall: unknown option "__proto__" for arch generic; its options are: latencyNs, sendCostNs',
  ],
  [
    ["explore", "--scenario", "seed-2008", "--arch", "nosuch"],
    2,
    'smpcall: unknown arch "nosuch" (no package @smpcall/arch-nosuch); available: generic, powerpc, sparc, x86',
  ],
  [["explore"], 2, "smpcall: explore needs --scenario NAME|PATH (or --barriers to list the barriers)"],
  [
    ["explore", "--scenario", ""],
    2,
    'smpcall: unknown scenario ""; built-in: seed-2008, seed-2008-mask, rcu-stall, mem-sync-result, mem-idle-wakeup, mem-shared-target, mem-async-csd, or a module path exporting a Scenario',
  ],
  [
    ["explore", "--scenario", "constructor"],
    2,
    'smpcall: unknown scenario "constructor"; built-in: seed-2008, seed-2008-mask, rcu-stall, mem-sync-result, mem-idle-wakeup, mem-shared-target, mem-async-csd, or a module path exporting a Scenario',
  ],
  [
    ["explore", "--scenario", "__proto__"],
    2,
    'smpcall: unknown scenario "__proto__"; built-in: seed-2008, seed-2008-mask, rcu-stall, mem-sync-result, mem-idle-wakeup, mem-shared-target, mem-async-csd, or a module path exporting a Scenario',
  ],
  [["replay"], 2, "smpcall: give exactly one of --schedule STRING and --schedule-file FILE"],
  [
    ["replay", "--schedule", "x", "--schedule-file", "y"],
    2,
    "smpcall: give exactly one of --schedule STRING and --schedule-file FILE",
  ],
  [
    ["replay", "--schedule", ""],
    2,
    'smpcall: bad schedule at character 1: expected a string starting "smp2," as printed by smpcall explore',
  ],
  [
    ["replay", "--schedule", "smp2"],
    2,
    'smpcall: bad schedule at character 1: expected a string starting "smp2," as printed by smpcall explore',
  ],
  [
    ["replay", "--schedule", "smp2,scenario=seed-2008"],
    2,
    'smpcall: bad schedule at character 24: truncated: the schedule ends without its "policy" field',
  ],
  [
    ["replay", "--schedule", "smp1,foo"],
    2,
    'smpcall: bad schedule at character 1: expected a string starting "smp2," as printed by smpcall explore',
  ],
  [
    ["replay", "--schedule", "seed-2008/naive/generic/2/1/1/0"],
    2,
    "smpcall: bad schedule at character 1: this is an old-style schedule (scenario/policy/arch/…); run smpcall explore again for a smp2 schedule, which carries everything the run needs",
  ],
  [
    [
      "replay",
      "--schedule",
      "smp2,scenario=seed-2008,policy=naive,arch=generic,cpus=2,calls=1,seed=1,alloc=1,steps=20000,sum=0",
    ],
    2,
    'smpcall: bad schedule at character 73: "alloc=1" is not a field (expected one of scenario, scenario-module, policy, arch, arch-module, arch-opt, kernel, idle, memory, drop-barrier, cpus, calls, seed, alloc-fail, max-steps, fault-bound, end, n, choices, sum as key=value)',
  ],
  [
    ["replay", "--schedule-file", "missing.txt"],
    2,
    "smpcall: cannot read replay file missing.txt: no such file",
  ],
  [["replay", "--schedule-file", "adir"], 2, "smpcall: cannot read replay file adir: it is a folder"],
  [
    ["replay", "--schedule-file", "garbage.json"],
    2,
    'smpcall: bad schedule at character 1: expected a string starting "smp2," as printed by smpcall explore',
  ],
  [
    ["replay", "--schedule-file", "notrace.json"],
    2,
    'smpcall: replay file notrace.json holds no schedule: expected a "schedule" field (explore --save-schedule) or "violation.schedule" (explore --json)',
  ],
  [
    ["replay", "--schedule-file", "arr.json"],
    2,
    'smpcall: bad schedule at character 1: expected a string starting "smp2," as printed by smpcall explore',
  ],
  [
    ["replay", "--schedule-file", "empty.txt"],
    2,
    'smpcall: bad schedule at character 1: expected a string starting "smp2," as printed by smpcall explore',
  ],
  [["report"], 2, "smpcall: required option '--trace <file>' not specified (see --help)"],
  [["report", "--trace", "x.json"], 2, "smpcall: required option '--out <file>' not specified (see --help)"],
  [
    ["report", "--trace", "missing.json", "--out", "o.html"],
    2,
    "smpcall: cannot read trace missing.json: no such file",
  ],
  [["report", "--trace", "adir", "--out", "o.html"], 2, "smpcall: cannot read trace adir: it is a folder"],
  [
    ["report", "--trace", "garbage.json", "--out", "o.html"],
    2,
    "smpcall: garbage.json is not an smpcall trace: it is not JSON (report reads the Chrome-format trace of run --trace x.json or replay --trace x.json; an ftrace text trace cannot be drawn)",
  ],
  [
    ["report", "--trace", "notrace.json", "--out", "o.html"],
    2,
    "smpcall: notrace.json is not an smpcall trace: it has no metadata object (report reads the Chrome-format trace of run --trace x.json or replay --trace x.json)",
  ],
  [
    ["report", "--trace", "arr.json", "--out", "o.html"],
    2,
    "smpcall: arr.json is not an smpcall trace: it holds an array, not an object with traceEvents and metadata (report reads the Chrome-format trace of run --trace x.json or replay --trace x.json)",
  ],
  [
    ["report", "--trace", "null.json", "--out", "o.html"],
    2,
    "smpcall: null.json is not an smpcall trace: it holds null, not an object with traceEvents and metadata (report reads the Chrome-format trace of run --trace x.json or replay --trace x.json)",
  ],
  [
    ["report", "--trace", "badev.json", "--out", "o.html"],
    2,
    "smpcall: badev.json is not an smpcall trace: traceEvents[0] is null, not an event with ph, ts and tid (report reads the Chrome-format trace of run --trace x.json or replay --trace x.json)",
  ],
  [
    ["report", "--trace", "hugecpus.json", "--out", "o.html"],
    2,
    "smpcall: hugecpus.json is not an smpcall trace: metadata.cpus is 1000000000, not a CPU count 1..8192 (report reads the Chrome-format trace of run --trace x.json or replay --trace x.json)",
  ],
  [
    ["report", "--trace", "ftrace.txt", "--out", "o.html"],
    2,
    "smpcall: ftrace.txt is not an smpcall trace: it is not JSON (report reads the Chrome-format trace of run --trace x.json or replay --trace x.json; an ftrace text trace cannot be drawn)",
  ],
  [
    ["report", "--trace", "nometa.json", "--out", "o.html"],
    2,
    "smpcall: nometa.json is not an smpcall trace: it has no metadata object (report reads the Chrome-format trace of run --trace x.json or replay --trace x.json)",
  ],
  [
    ["report", "--trace", "noevents.json", "--out", "o.html"],
    2,
    "smpcall: noevents.json is not an smpcall trace: it has no traceEvents array (report reads the Chrome-format trace of run --trace x.json or replay --trace x.json)",
  ],
  [
    ["report", "--trace", "good.json", "--out", "good.json"],
    2,
    'smpcall: bad --out "good.json": is the --trace file this command reads; write to another file',
  ],
  [
    ["report", "--trace", "good.json", "--out", "./adir/../good.json"],
    2,
    'smpcall: bad --out "./adir/../good.json": is the --trace file this command reads; write to another file',
  ],
  [
    ["report", "--trace", "good.json", "--out", "adir"],
    2,
    'smpcall: bad --out "adir": is a folder; give the name of a file to write',
  ],
  [
    ["report", "--trace", "good.json", "--out", "missing/o.html"],
    2,
    'smpcall: bad --out "missing/o.html": folder missing does not exist; create it first',
  ],
  [
    ["report", "--trace", "good.json", "--out", "good.json/o.html"],
    2,
    'smpcall: bad --out "good.json/o.html": good.json is not a folder',
  ],
  [["report", "--trace", "good.json", "--out", ""], 2, 'smpcall: bad --out "": give a file name'],
  [
    ["run", "--ops", "10", "--trace", "missing/x.json"],
    2,
    'smpcall: bad --trace "missing/x.json": folder missing does not exist; create it first',
  ],
  [
    ["run", "--ops", "10", "--html", "missing/x.html"],
    2,
    'smpcall: bad --html "missing/x.html": folder missing does not exist; create it first',
  ],
  [
    ["run", "--ops", "10", "--trace", "adir"],
    2,
    'smpcall: bad --trace "adir": is a folder; give the name of a file to write',
  ],
  [
    ["run", "--ops", "10", "--html", "adir"],
    2,
    'smpcall: bad --html "adir": is a folder; give the name of a file to write',
  ],
  [
    ["run", "--ops", "10", "--trace", "notrace.json/x.json"],
    2,
    'smpcall: bad --trace "notrace.json/x.json": notrace.json is not a folder',
  ],
  [
    ["run", "--ops", "10", "--trace", "same.json", "--html", "same.json"],
    2,
    'smpcall: bad --html "same.json": is also the --trace file; give each output its own file',
  ],
  [["run", "--ops", "10", "--trace", ""], 2, 'smpcall: bad --trace "": give a file name'],
  [
    ["run", "--ops", "10", "--trace-limit", "5", "--trace", "missing/x.txt"],
    2,
    'smpcall: bad --trace "missing/x.txt": folder missing does not exist; create it first',
  ],
  [
    ["run", "--ops", "10", "--html", "./adir/"],
    2,
    'smpcall: bad --html "./adir/": is a folder; give the name of a file to write',
  ],
  [
    ["explore", "--scenario", "seed-2008", "--save-schedule", "missing/s.json"],
    2,
    'smpcall: bad --save-schedule "missing/s.json": folder missing does not exist; create it first',
  ],
  [
    ["explore", "--scenario", "seed-2008", "--save-schedule", "adir"],
    2,
    'smpcall: bad --save-schedule "adir": is a folder; give the name of a file to write',
  ],
  [
    ["explore", "--scenario", "seed-2008", "--html", "missing/e.html"],
    2,
    'smpcall: bad --html "missing/e.html": folder missing does not exist; create it first',
  ],
  [
    ["explore", "--scenario", "seed-2008", "--html", "e.html", "--save-schedule", "e.html"],
    2,
    'smpcall: bad --save-schedule "e.html": is also the --html file; give each output its own file',
  ],
  [
    ["explore", "--scenario", "./scenario-setup-throws.js", "--save-schedule", "./scenario-setup-throws.js"],
    2,
    'smpcall: bad --save-schedule "./scenario-setup-throws.js": is the --scenario file this command reads; write to another file',
  ],
  [
    ["replay", "--schedule-file", "notrace.json", "--trace", "notrace.json"],
    2,
    'smpcall: bad --trace "notrace.json": is the --schedule-file file this command reads; write to another file',
  ],
  [
    ["replay", "--schedule", "smp2,x", "--html", "adir"],
    2,
    'smpcall: bad --html "adir": is a folder; give the name of a file to write',
  ],
  [
    ["replay", "--schedule", "smp2,x", "--trace", "missing/t.json"],
    2,
    'smpcall: bad --trace "missing/t.json": folder missing does not exist; create it first',
  ],
  [["litmus", "--memory", "bogus"], 2, 'smpcall: bad --memory "bogus": choose one of sc, tso, lkmm'],
  [
    ["litmus", "--test", "bogus"],
    2,
    'smpcall: bad --test "bogus": choose one of MP, MP+wmb+rmb, MP+wmb, MP+rmb, MP+release+acquire, SB, SB+mb, LB, LB+acquire+release',
  ],
  [["litmus", "--memory", ""], 2, 'smpcall: bad --memory "": choose one of sc, tso, lkmm'],
  [
    ["litmus", "--test", "__proto__"],
    2,
    'smpcall: bad --test "__proto__": choose one of MP, MP+wmb+rmb, MP+wmb, MP+rmb, MP+release+acquire, SB, SB+mb, LB, LB+acquire+release',
  ],
  [["new-arch"], 2, "smpcall: missing required argument 'name' (see --help)"],
  [
    ["new-arch", "RISCV"],
    2,
    'smpcall: bad arch name "RISCV": use lowercase letters, digits, ".", "_" or "-" (at most 64, starting and ending with a letter or digit), e.g. riscv',
  ],
  [
    ["new-arch", ""],
    2,
    'smpcall: bad arch name "": use lowercase letters, digits, ".", "_" or "-" (at most 64, starting and ending with a letter or digit), e.g. riscv',
  ],
  [
    ["new-arch", "a/b"],
    2,
    'smpcall: bad arch name "a/b": use lowercase letters, digits, ".", "_" or "-" (at most 64, starting and ending with a letter or digit), e.g. riscv',
  ],
  [
    ["new-arch", "__proto__"],
    2,
    'smpcall: bad arch name "__proto__": use lowercase letters, digits, ".", "_" or "-" (at most 64, starting and ending with a letter or digit), e.g. riscv',
  ],
  [["new-arch", "-x"], 2, "smpcall: unknown option '-x' (see --help)"],
  [
    ["new-arch", "ok", "--dir", "notrace.json"],
    2,
    "smpcall: notrace.json exists and is not a folder: choose another --dir",
  ],
  [
    ["new-arch", "ok", "--dir", "nonempty"],
    2,
    "smpcall: folder nonempty exists and is not empty: choose another --dir, or empty it first",
  ],
  // Refused before the kit starts (it made every check fail in the kit's worker, exit 1).
  [
    ["conform", "--arch", "powerpc", "--idle", "mwait"],
    2,
    "smpcall: backend powerpc has no idle mode mwait (its kernel has: halt, poll); MWAIT idle is x86's: pick one of those with --idle / the idle option",
  ],
  [["conform", "--cpus", "1"], 2, 'smpcall: bad --cpus "1": expected an integer 2..8192'],
  [["conform", "--cpus", "2,x"], 2, 'smpcall: bad --cpus "x": expected an integer 2..8192'],
  [
    ["conform", "--cpus", ""],
    2,
    'smpcall: bad --cpus "": expected a comma-separated list of CPU counts 2..8192, e.g. 2,3,64',
  ],
  [
    ["conform", "--cpus", "2,,3"],
    2,
    'smpcall: bad --cpus "2,,3": expected a comma-separated list of CPU counts 2..8192, e.g. 2,3,64',
  ],
  [["conform", "--schedules", "0"], 2, 'smpcall: bad --schedules "0": expected an integer 1..10000'],
  [["conform", "--check", "bogus"], 2, `smpcall: unknown check "bogus"; checks: ${CHECK_NAMES}`],
  [["conform", "--check", "__proto__"], 2, `smpcall: unknown check "__proto__"; checks: ${CHECK_NAMES}`],
  [
    ["conform", "--arch-opt", "constructor=1"],
    2,
    'smpcall: unknown option "constructor" for arch generic; its options are: latencyNs, sendCostNs',
  ],
  [
    ["conform", "--arch", "nosuch"],
    2,
    'smpcall: unknown arch "nosuch" (no package @smpcall/arch-nosuch); available: generic, powerpc, sparc, x86',
  ],
  [
    ["bench", "--arch", "bogus"],
    2,
    'smpcall: unknown arch "bogus" (no package @smpcall/arch-bogus); available: generic, powerpc, sparc, x86',
  ],
  [
    ["bench", "--arch-opt", "nosuch=1"],
    2,
    'smpcall: unknown option "nosuch" for arch generic; its options are: latencyNs, sendCostNs',
  ],
  [
    ["bench", "--quick", "--arch-opt", "latencyNs=-1"],
    2,
    'smpcall: bad value "-1" for option latencyNs of arch generic: expected integer 0..1000000',
  ],
  [
    ["archs", "--arch", "bogus"],
    2,
    'smpcall: unknown arch "bogus" (no package @smpcall/arch-bogus); available: generic, powerpc, sparc, x86',
  ],
  [
    ["archs", "--arch", "./nonexistent.js"],
    2,
    "smpcall: arch module ./nonexistent.js not found (looked for <DIR>/nonexistent.js); give a path to a .js file that exports an ArchDescriptor",
  ],
  [
    ["archs", "extra"],
    2,
    "smpcall: too many arguments for 'archs'. Expected 0 arguments but got 1. (see --help)",
  ],
  [
    ["help", "bogus"],
    2,
    "smpcall: help: unknown command 'bogus'; commands: archs, run, bench, conform, explore, replay, report, litmus, new-arch (see --help)",
  ],
  [["--bogus"], 2, "smpcall: unknown option '--bogus' (see --help)"],
  [
    ["run", "--ops", "20", "--arch", "./arch-writes-cpus.js"],
    1,
    'smpcall: machine.cpus was changed during the run (its length is 1, not 8) by backend broken (./arch-writes-cpus.js) or a program: the array is read-only to backends and programs (PORTING.md, "CPU state a backend may read") (t=616 ns)',
  ],
  [
    ["bench", "--quick", "--arch", "./arch-send-nothing.js"],
    1,
    "smpcall: bench broadcast/1024: the run reported problems, so there is nothing to measure: deadlock: no CPU can make progress since t=68346 ns; wait-for cycle: CPU 0 -> CPU 1 -> CPU 0",
  ],
  // An option where a value belongs: commander took "--json" as the trace's file name.
  [
    ["run", "--ops", "10", "--trace", "--json"],
    2,
    "smpcall: --trace needs a value, but the next word is the option --json: give --trace its value (a value that starts with - is written --trace=VALUE)",
  ],
  [
    ["explore", "--scenario", "--json"],
    2,
    "smpcall: --scenario needs a value, but the next word is the option --json: give --scenario its value (a value that starts with - is written --scenario=VALUE)",
  ],
  [
    ["replay", "--schedule", "-h"],
    2,
    "smpcall: --schedule needs a value, but the next word is the option -h: give --schedule its value (a value that starts with - is written --schedule=VALUE)",
  ],
  [
    ["run", "--ops", "20", "--arch", "./arch-register-async.js"],
    2,
    "smpcall: backend broken (./arch-register-async.js): register() returned a Promise: descriptor hooks run synchronously while the system is built (remove async)",
  ],
  [
    ["run", "--ops", "20", "--arch", "./arch-topology-junk.js"],
    2,
    "smpcall: backend broken (./arch-topology-junk.js): topology() returned 5, not an object of topology settings (threadsPerCore, coresPerPackage, packagesPerNode, numbering)",
  ],
  [
    ["run", "--ops", "20", "--arch", "./arch-topology-bad.js"],
    2,
    "smpcall: backend broken (./arch-topology-bad.js): topology() returned a bad topology: topology threadsPerCore must be a positive integer, got 0",
  ],
  [
    ["run", "--ops", "20", "--arch", "./arch-validate-returns.js"],
    2,
    'smpcall: backend broken (./arch-validate-returns.js): validate() returned "too many CPUs": it accepts by returning nothing and refuses by throwing an ArchOptionError',
  ],
  [
    ["run", "--ops", "20", "--arch", "./arch-send-async.js"],
    1,
    "smpcall: backend broken (./arch-send-async.js): sendCallFunctionSingleIpi returned an async generator, not a generator: write it as *sendCallFunctionSingleIpi(...) { ... } (not async: the machine runs a step at a time, synchronously)",
  ],
  [
    ["run", "--ops", "20", "--arch", "./arch-send-bad-stack.js"],
    1,
    "smpcall: backend broken (./arch-send-bad-stack.js) in sendCallFunctionSingleIpi on CPU 0 threw Error: no stack for you (t=616 ns)",
  ],
  // A device as an input: Node would read /dev/zero for ever (the process grew by ~50 MB/s and
  // no stall watch could stop a worker inside the read); refused before any read.
  ...(fs.existsSync("/dev/zero") ? DEVICE_ROWS : []),
  // Node's recursive mkdir retried for ever where the file system answers ENOENT (procfs).
  ...(fs.existsSync("/proc/self")
    ? [
        [
          ["new-arch", "ok", "--dir", "/proc/x"],
          2,
          "smpcall: cannot create folder /proc/x: ENOENT: no such file or directory, mkdir '/proc/x'",
        ] as const,
      ]
    : []),
  [
    ["new-arch", "ok", "--dir", "notrace.json/x"],
    2,
    "smpcall: cannot create folder notrace.json/x: <DIR>/notrace.json is not a folder",
  ],
  // A value holding a line break or an escape sequence is quoted escaped: still one line, and
  // nothing reaches the terminal as a control sequence.
  [
    ["run", "--arch", "x\ny"],
    2,
    'smpcall: bad arch name "x\\ny": use a name such as generic, powerpc, sparc, x86, or a module path like ./my-arch.js',
  ],
  [
    ["litmus", "--test", "x\u001b[31mred"],
    2,
    'smpcall: bad --test "x\\x1b[31mred": choose one of MP, MP+wmb+rmb, MP+wmb, MP+rmb, MP+release+acquire, SB, SB+mb, LB, LB+acquire+release',
  ],
  [
    ["new-arch", "ok\r\n"],
    2,
    'smpcall: bad arch name "ok\\r\\n": use lowercase letters, digits, ".", "_" or "-" (at most 64, starting and ending with a letter or digit), e.g. riscv',
  ],
  [
    ["explore", "--scenario", "seed-2008", "--strategy", "a\nb"],
    2,
    "smpcall: option '--strategy <name>' argument 'a\\nb' is invalid. Allowed choices are random, pct, dfs. (see --help)",
  ],
  [["run", "--x\ny"], 2, "smpcall: unknown option '--x\\ny' (see --help)"],
  // A module file larger than Node.js can load (its text must fit one string): refused by its
  // size at once; Node read a 3 GB file for 47 s, 4 GB of memory, before failing.
  [
    ["run", "--ops", "10", "--arch", "./huge.js"],
    2,
    `smpcall: arch module ./huge.js is ${MAX_MODULE_FILE_BYTES + 1} bytes, more than Node.js can load as a module (${MAX_MODULE_FILE_BYTES}); give the path of a .js file that exports an ArchDescriptor`,
  ],
  [
    ["explore", "--scenario", "./huge.js"],
    2,
    `smpcall: scenario module ./huge.js is ${MAX_MODULE_FILE_BYTES + 1} bytes, more than Node.js can load as a module (${MAX_MODULE_FILE_BYTES}); give the path of a .js file that exports a Scenario`,
  ],
  // merge reads its search from the files: a search option would be ignored without a word.
  [
    ["explore", "merge", "a.json", "b.json", "--policy", "naive"],
    2,
    "smpcall: --policy does not go with explore merge: the shard files carry their search (its scenario, policy, backend and bounds); merge takes only the files and --json",
  ],
  [
    ["explore", "--cpus", "4", "merge", "a.json", "--json"],
    2,
    "smpcall: --cpus does not go with explore merge: the shard files carry their search (its scenario, policy, backend and bounds); merge takes only the files and --json",
  ],
  // commander's suggestion joins the line.
  [["run", "--cpu", "4"], 2, "smpcall: unknown option '--cpu' (did you mean --cpus?) (see --help)"],
  [["rnu"], 2, "smpcall: unknown command 'rnu' (did you mean run?) (see --help)"],
  [
    ["help", "x\ny"],
    2,
    "smpcall: help: unknown command 'x\\ny'; commands: archs, run, bench, conform, explore, replay, report, litmus, new-arch (see --help)",
  ],
  [
    ["explore", "--scenario", "seed-2008", "--kernel", "4.4"],
    2,
    "smpcall: option '--kernel <profile>' argument '4.4' is invalid. Allowed choices are 6.1, mainline. (see --help)",
  ],
];

let dir = "";

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "smpcall-bad-input-"));
  writeBadModules(dir);
  const files: Record<string, string> = {
    "notrace.json": '{"a":1}',
    "arr.json": "[1,2]",
    "null.json": "null",
    "empty.txt": "",
    "garbage.json": "garbage",
    "ftrace.txt": "# tracer: nop\n",
    "nometa.json": JSON.stringify({ traceEvents: [] }),
    "noevents.json": JSON.stringify({ metadata: { cpus: 2 } }),
    "badev.json": JSON.stringify({ metadata: { cpus: 2 }, traceEvents: [null, { ph: "B" }] }),
    "hugecpus.json": JSON.stringify({ metadata: { cpus: 1e9 }, traceEvents: [] }),
  };
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
  // Sparse: no disk used.
  fs.writeFileSync(path.join(dir, "huge.js"), "");
  fs.truncateSync(path.join(dir, "huge.js"), MAX_MODULE_FILE_BYTES + 1);
  fs.mkdirSync(path.join(dir, "adir"));
  fs.mkdirSync(path.join(dir, "nonempty"));
  fs.writeFileSync(path.join(dir, "nonempty", "f"), "x");
  // A real trace, for the rows whose trace is fine but whose output is not.
  expect(await main(["run", "--ops", "5", "--cpus", "2", "--trace", "good.json"], memoryIo({}, dir))).toBe(0);
});

afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

async function cli(args: readonly string[], env: Record<string, string> = {}) {
  const io = memoryIo(env, dir);
  const t0 = performance.now();
  const code = await main(args, io);
  return { code, stdout: io.stdout, stderr: io.stderr, ms: performance.now() - t0 };
}

describe("bad input to the CLI: exit 1 or 2 with one clear line", () => {
  it("covers at least 150 inputs", () => {
    expect(ROWS.length).toBeGreaterThanOrEqual(150);
  });

  it.each(ROWS.map((r) => [r[0].join(" ") + (r[3] ? ` ${JSON.stringify(r[3])}` : ""), r] as const))(
    "%s",
    async (_name, [args, code, firstLine, env]) => {
      const r = await cli(args, env);
      const lines = r.stderr.split("\n").filter((l) => l !== "");
      // The simulated time a user-code error names follows the kernel's costs: not pinned here.
      const untimed = (l: string | undefined) => l?.replace(/\(t=\d+ ns\)/g, "(t=… ns)");
      expect({ code: r.code, first: untimed(lines[0]) }).toEqual({
        code,
        first: untimed(firstLine.replaceAll("<DIR>", dir)),
      });
      expect(lines).toHaveLength(1); // no stack without SMPCALL_DEBUG=1
      expect(r.stdout).toBe("");
      expect(r.ms).toBeLessThan(5000);
    },
  );

  it("the output files were checked before anything ran: none of them exists", () => {
    for (const f of ["missing", "same.json", "e.html", "o.html", "--json"])
      expect(fs.existsSync(path.join(dir, f))).toBe(false);
  });

  it("user code that throws: one line naming the module; SMPCALL_DEBUG=1 adds the stack", async () => {
    const args = ["run", "--ops", "20", "--arch", "./arch-handler-throws.js"];
    const plain = await cli(args);
    expect(plain.code).toBe(1);
    expect(plain.stderr.trimEnd().split("\n")).toHaveLength(1);
    const debug = await cli(args, { SMPCALL_DEBUG: "1" });
    expect(debug.code).toBe(1);
    expect(debug.stderr.split("\n")[0]).toBe(plain.stderr.split("\n")[0]);
    expect(debug.stderr).toMatch(/\n\s+at .*arch-handler-throws\.js:\d+:\d+/);
  });

  it("a file that is not an smpcall trace is refused even when it is valid JSON of the right shape but a foreign one", async () => {
    fs.writeFileSync(
      path.join(dir, "perfetto.json"),
      JSON.stringify({ traceEvents: [{ ph: "X", ts: 1, tid: 1 }] }),
    );
    const r = await cli(["report", "--trace", "perfetto.json", "--out", "p.html"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^smpcall: perfetto\.json is not an smpcall trace: it has no metadata object/);
    expect(fs.existsSync(path.join(dir, "p.html"))).toBe(false);
  });

  /** An Error whose innermost frame is in `file`. */
  const thrownAt = (file: string, message = "x is not a function"): Error => {
    const e = new TypeError(message);
    e.stack = `TypeError: ${message}\n    at f (${file}:10:5)\n    at g (${file}:20:3)`;
    return e;
  };

  it.each([
    ["a UsageError", new UsageError("bad --cpus"), 2, /^smpcall: bad --cpus$/],
    ["a SimulationError", new SimulationError("deadlock"), 1, /^smpcall: deadlock$/],
    [
      "a UserCodeError",
      new UserCodeError("the program on CPU 0 threw 5", 0, "the program on CPU 0"),
      1,
      /^smpcall: the program on CPU 0 threw 5$/,
    ],
    [
      "an Error thrown in a user's module",
      thrownAt("/home/me/port/my-arch.js"),
      1,
      /^smpcall: \.\/port\/my-arch\.js threw TypeError: x is not a function \(at \.\/port\/my-arch\.js:10:5\)$/,
    ],
    [
      "an Error thrown in smpcall's own code",
      thrownAt(path.resolve(__dirname, "../src/cli/main.ts")),
      70,
      /^smpcall: internal error \(a bug in smpcall, please report it\): TypeError: x is not a function/,
    ],
    [
      "a UserCodeError whose cause is smpcall's own bug",
      new UserCodeError("callback f on CPU 1 threw", 1, "callback f", {
        cause: thrownAt(path.resolve(__dirname, "../src/cli/main.ts")),
      }),
      70,
      /^smpcall: internal error/,
    ],
    [
      // Node refuses the module from inside smpcall's require(): the module is wrong, not smpcall.
      "a module load that Node refuses (top-level await, ERR_REQUIRE_ASYNC_MODULE)",
      new UserCodeError(
        "arch module ./tla.mjs failed to load: Error: require() cannot be used on an ESM graph with top-level await.",
        -1,
        "arch module ./tla.mjs",
        {
          cause: Object.assign(
            thrownAt(
              path.resolve(__dirname, "../../core/src/arch/loader.ts"),
              "require() cannot be used on an ESM graph with top-level await.",
            ),
            { code: "ERR_REQUIRE_ASYNC_MODULE" },
          ),
        },
      ),
      1,
      /^smpcall: arch module \.\/tla\.mjs failed to load: Error: require\(\) cannot be used on an ESM graph with top-level await\.$/,
    ],
    [
      "a string thrown by nobody's module",
      "boom",
      70,
      /^smpcall: internal error \(a bug in smpcall, please report it\): string boom/,
    ],
  ] as const)("exit status of %s", (_name, error, code, first) => {
    const f = classifyFailure(error, {}, "/home/me");
    expect(f.code).toBe(code);
    expect(f.text.split("\n")[0]).toMatch(first);
  });
});
