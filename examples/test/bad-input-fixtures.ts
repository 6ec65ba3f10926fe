import * as fs from "node:fs";
import * as path from "node:path";

/**
 * User modules that are wrong in one way each, for the bad-input tests: backends and scenarios
 * written to a temporary folder. Backends extend the generic reference backend and override one
 * thing; `@smpcall/core` and `@smpcall/arch-generic` resolve through the test runner's mapping,
 * tsyringe by its absolute path (the folder has no node_modules).
 */
const TSYRINGE = JSON.stringify(require.resolve("tsyringe"));
const GENERIC_SUBCLASS = (body: string, descriptorExtra = "") => `"use strict";
const { instanceCachingFactory } = require(${TSYRINGE});
const core = require("@smpcall/core");
const { descriptor: generic, GenericIpi } = require("@smpcall/arch-generic");
class Broken extends GenericIpi {
${body}
}
module.exports.descriptor = {
  ...generic,
  name: "broken",
  register(container) {
    container.register(core.ArchIpiToken, {
      useFactory: instanceCachingFactory(
        (c) =>
          new Broken(
            c.resolve(core.InterconnectToken),
            c.resolve(core.SmpHandlersToken),
            c.resolve(core.MachineToken),
            c.resolve(core.ArchOptionsToken),
          ),
      ),
    });
  },
  ${descriptorExtra}
};
`;

const SCENARIO = (setup: string, extra = "") => `"use strict";
module.exports.scenario = {
  name: "bad-scenario",
  description: "a scenario that is wrong in one way",
  defaultCpus: 2,
  ${extra}
  setup(ctx) {
    const m = ctx.system.machine;
${setup}
  },
};
`;

/** File name -> source. */
export const BAD_MODULES: Readonly<Record<string, string>> = {
  "arch-load-throws.js": `throw new Error("boom while loading");\n`,
  "arch-syntax-error.js": `module.exports = { descriptor: { name: "x", \n`,
  "arch-no-descriptor.js": `module.exports = { notADescriptor: 1 };\n`,
  "arch-register-throws.js": GENERIC_SUBCLASS(
    "",
    `register() { throw new RangeError("register exploded"); },`,
  ),
  "arch-ctor-throws.js": GENERIC_SUBCLASS(
    `constructor(...a) { super(...a); throw new Error("no APIC found"); }`,
  ),
  "arch-send-throws.js": GENERIC_SUBCLASS(
    `*sendCallFunctionSingleIpi(cpu) { const regs = undefined; regs.icr = cpu; yield 1; }
*sendCallFunctionIpiMask(mask) { const regs = undefined; regs.icr = 1; yield 1; }`,
  ),
  "arch-send-throws-string.js": GENERIC_SUBCLASS(
    `*sendCallFunctionSingleIpi() { throw "string thrown"; }
*sendCallFunctionIpiMask() { throw "string thrown"; }`,
  ),
  "arch-handler-throws.js": GENERIC_SUBCLASS(`*handleInterrupt() { throw new Error("bad vector"); }`),
  "arch-send-not-generator.js": GENERIC_SUBCLASS(
    `sendCallFunctionSingleIpi(cpu) { this.wires.raise(cpu, 0, 100); }
sendCallFunctionIpiMask(mask) { return 5; }`,
  ),
  // An async generator has next() but cannot be driven by yield* (it was an internal error, 70).
  "arch-send-async.js": GENERIC_SUBCLASS(
    `async *sendCallFunctionSingleIpi(cpu) { yield 1; }
async *sendCallFunctionIpiMask(mask) { yield 1; }`,
  ),
  // Sends nothing: every waiting call deadlocks (bench had nothing to measure: internal error, 70).
  "arch-send-nothing.js": GENERIC_SUBCLASS(
    `*sendCallFunctionSingleIpi() { yield 1; }
*sendCallFunctionIpiMask() { yield 1; }`,
  ),
  // Writes the machine's CPU array (read-only, PORTING.md): it broke the machine later, an
  // internal error (70) blamed on smpcall; the run now stops naming the changed array (exit 1).
  "arch-writes-cpus.js": GENERIC_SUBCLASS(
    `*sendCallFunctionSingleIpi(cpu) { this.machine.cpus.length = 1; yield 1; }
*sendCallFunctionIpiMask(mask) { this.machine.cpus.length = 1; yield 1; }`,
  ),
  "arch-yields-nan.js": GENERIC_SUBCLASS(
    `*sendCallFunctionSingleIpi(cpu) { this.wires.raise(cpu, 0, 100); yield NaN; }
*sendCallFunctionIpiMask(mask) { yield -5; }`,
  ),
  "arch-raise-bad-line.js": GENERIC_SUBCLASS(
    `*sendCallFunctionSingleIpi(cpu) { this.wires.raise(cpu, 40, 100); yield 1; }
*sendCallFunctionIpiMask(mask) { this.wires.raise(9999, 0, 100); yield 1; }`,
  ),
  // An Error whose stack getter throws: naming the module must not crash the CLI (it was 70).
  "arch-send-bad-stack.js": GENERIC_SUBCLASS(
    `*sendCallFunctionSingleIpi() { throw badStack(); }
*sendCallFunctionIpiMask() { throw badStack(); }`,
  ).replace(
    "class Broken",
    `function badStack() {
  const e = new Error("no stack for you");
  Object.defineProperty(e, "stack", { get() { throw new Error("stack getter"); } });
  return e;
}
class Broken`,
  ),
  "arch-stats-throws.js": GENERIC_SUBCLASS(`statistics() { throw new Error("stats unavailable"); }`),
  "arch-stats-string.js": GENERIC_SUBCLASS(`statistics() { return "lots"; }`),
  "arch-validate-throws-error.js": GENERIC_SUBCLASS(
    "",
    `validate() { throw new Error("this machine is too small"); },`,
  ),
  // Descriptor hooks that return what the machine cannot use (an async register() was an
  // unhandled rejection and an internal error, 70; a bad topology() 70; junk was ignored).
  "arch-register-async.js": GENERIC_SUBCLASS("", `async register() { throw new Error("too late"); },`),
  "arch-topology-junk.js": GENERIC_SUBCLASS("", `topology() { return 5; },`),
  "arch-topology-bad.js": GENERIC_SUBCLASS("", `topology() { return { threadsPerCore: 0 }; },`),
  "arch-validate-returns.js": GENERIC_SUBCLASS("", `validate() { return "too many CPUs"; },`),
  "arch-bad-name.js": `module.exports.descriptor = { name: "", description: "x", options: {}, capabilities: {}, register() {} };\n`,
  "arch-bad-option-default.js": `module.exports.descriptor = { name: "x", description: "x", capabilities: {}, register() {}, options: { n: { type: "integer", min: 0, max: 5, default: 9, description: "n" } } };\n`,
  "scenario-load-throws.js": `throw new TypeError("scenario module broke");\n`,
  "scenario-not-scenario.js": `module.exports = { hello: "world" };\n`,
  "scenario-setup-throws.js": SCENARIO(`    throw new Error("setup failed");`),
  "scenario-program-throws.js": SCENARIO(
    `    m.spawn(0, (function* () { yield 10; null.x; })());
    m.spawn(1, (function* () { yield 10; })());`,
  ),
  "scenario-setup-throws-string.js": SCENARIO(`    throw "not an Error";`),
  "scenario-program-throws-string.js": SCENARIO(`    m.spawn(0, (function* () { yield 10; throw 42; })());`),
  "scenario-invariant-number.js": SCENARIO(
    `    m.spawn(0, (function* () { yield 1; })());`,
    `invariants: [() => 7],`,
  ),
  "scenario-bad-kernel-call.js": SCENARIO(
    `    m.spawn(0, (function* () { yield* ctx.system.kernel.smpCallFunctionSingle(1.5, () => {}, null, true); })());`,
  ),
  "scenario-spawn-not-generator.js": SCENARIO(`    m.spawn(0, function* () { yield 1; });`),
  "scenario-yields-string.js": SCENARIO(`    m.spawn(0, (function* () { yield "ten"; })());`),
  "scenario-bad-cpus.js": SCENARIO(
    `    m.spawn(0, (function* () { yield 1; })());`,
    `minCpus: 4, maxCpus: 2,`,
  ),
};

/** Write every module of {@link BAD_MODULES} into `dir`. */
export function writeBadModules(dir: string): void {
  for (const [name, source] of Object.entries(BAD_MODULES)) fs.writeFileSync(path.join(dir, name), source);
}
