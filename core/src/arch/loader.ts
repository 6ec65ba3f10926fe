import { constants as bufferConstants } from "node:buffer";
import * as fs from "node:fs";
import * as path from "node:path";
import { ArchLoadError, UserCodeError, describeThrown, describeValue } from "../errors";
import { IDLE_MODES, type IdleMode } from "../kernel/idle-loop";
import { isArchDescriptor, type ArchDescriptor } from "./descriptor";

/** Package scope of built-in and third-party backends: `@smpcall/arch-<name>`. */
export const ARCH_PACKAGE_PREFIX = "@smpcall/arch-";
/** Environment variable naming the backend when `--arch` is not given. */
export const ARCH_ENV_VAR = "SMPCALL_ARCH";
/**
 * The largest module file Node.js can load: its text must fit in one string (about 512 MiB). A
 * larger file is refused by its size, before Node reads it all (a 3 GB file took 47 s and 4 GB
 * of memory to fail).
 */
export const MAX_MODULE_FILE_BYTES: number = bufferConstants.MAX_STRING_LENGTH;

/** The backend used when neither is given. */
export const DEFAULT_ARCH = "generic";

/** Is `spec` a module path rather than a backend name? (contains `/` or `\`, or ends in .js/.cjs/.mjs) */
export function isModulePath(spec: string): boolean {
  return spec.includes("/") || spec.includes("\\") || /\.(c|m)?js$/.test(spec);
}

/** Which backend to use: the explicit choice, else $SMPCALL_ARCH, else `generic`. */
export function chooseArchSpec(explicit: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  if (explicit !== undefined && explicit !== "") return explicit;
  const fromEnv = env[ARCH_ENV_VAR];
  if (fromEnv !== undefined && fromEnv.trim() !== "") return fromEnv.trim();
  return DEFAULT_ARCH;
}

/** Pick the descriptor out of a loaded module: `descriptor`, `default`, or `default.descriptor`. */
export function descriptorFromModule(mod: unknown): ArchDescriptor | null {
  if (isArchDescriptor(mod)) return mod;
  if (typeof mod !== "object" || mod === null) return null;
  const m = mod as Record<string, unknown>;
  for (const candidate of [
    m.descriptor,
    m.default,
    (m.default as Record<string, unknown> | undefined)?.descriptor,
  ]) {
    if (isArchDescriptor(candidate)) return candidate;
  }
  return null;
}

/**
 * Load a backend by name (`x86` -> package `@smpcall/arch-x86`) or by module path
 * (`./my-arch.js`, resolved against `cwd`). Throws {@link ArchLoadError} with the available
 * names when a name is unknown, or with the path when a module is missing or exports no backend.
 */
export function loadArch(spec: string, cwd: string = process.cwd()): ArchDescriptor {
  if (typeof spec !== "string")
    throw new ArchLoadError(
      `loadArch needs a backend name (such as generic) or a module path, got ${describeValue(spec)}`,
    );
  if (isModulePath(spec)) {
    const file = path.resolve(cwd, spec);
    if (!fs.existsSync(file))
      throw new ArchLoadError(
        `arch module ${spec} not found (looked for ${file}); give a path to a .js file that exports an ArchDescriptor`,
      );
    const st = fs.statSync(file);
    if (st.isDirectory())
      throw new ArchLoadError(
        `arch module ${spec} is a directory; give the path of a .js file that exports an ArchDescriptor`,
      );
    // Node would read a device such as /dev/zero for ever (and fail on a pipe with an error of its own).
    if (!st.isFile())
      throw new ArchLoadError(
        `arch module ${spec} is ${st.isCharacterDevice() ? "a character device" : st.isBlockDevice() ? "a block device" : st.isSocket() ? "a socket" : st.isFIFO() ? "a pipe" : "not a regular file"}, not a file; give the path of a .js file that exports an ArchDescriptor`,
      );
    if (st.size > MAX_MODULE_FILE_BYTES)
      throw new ArchLoadError(
        `arch module ${spec} is ${st.size} bytes, more than Node.js can load as a module (${MAX_MODULE_FILE_BYTES}); give the path of a .js file that exports an ArchDescriptor`,
      );
    let mod: unknown;
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- a user's backend module, named at run time
      mod = require(file);
    } catch (e) {
      throw new UserCodeError(
        `arch module ${spec} failed to load: ${describeThrown(e)}`,
        -1,
        `arch module ${spec}`,
        {
          cause: e,
        },
      );
    }
    const d = descriptorFromModule(mod);
    if (!d) {
      // An exported "descriptor" that is not one: say which field is wrong.
      const named =
        typeof mod === "object" && mod !== null ? (mod as Record<string, unknown>).descriptor : undefined;
      if (typeof named === "object" && named !== null)
        checkDescriptor(named as ArchDescriptor, `arch module ${spec}`);
      throw new ArchLoadError(
        `arch module ${spec} does not export a backend: export an ArchDescriptor as "descriptor" or as the default export`,
      );
    }
    modulePaths.set(d, spec);
    checkDescriptor(d, archLabel(d));
    return d;
  }
  if (!/^[a-z0-9][a-z0-9._-]*$/.test(spec)) {
    throw new ArchLoadError(
      `bad arch name "${spec}": use a name such as ${listArchNames().join(", ") || DEFAULT_ARCH}, or a module path like ./my-arch.js`,
    );
  }
  const pkg = ARCH_PACKAGE_PREFIX + spec;
  try {
    require.resolve(pkg);
  } catch {
    throw new ArchLoadError(
      `unknown arch "${spec}" (no package ${pkg}); available: ${listArchNames().join(", ") || "(none found)"}`,
    );
  }
  let mod: unknown;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- an installed backend package, named at run time
    mod = require(pkg);
  } catch (e) {
    throw new ArchLoadError(`arch package ${pkg} failed to load: ${firstLine((e as Error).message)}`, {
      cause: e,
    });
  }
  const d = descriptorFromModule(mod);
  if (!d)
    throw new ArchLoadError(
      `arch package ${pkg} does not export a backend yet; available: ${listArchNames().join(", ")}`,
    );
  checkDescriptor(d, archLabel(d));
  return d;
}

/** Where each descriptor loaded by path came from, for messages (`backend my-arch (./my-arch.js)`). */
const modulePaths = new WeakMap<ArchDescriptor, string>();

/** How messages name a backend: `backend NAME`, plus the module path it was loaded from. */
export function archLabel(d: ArchDescriptor): string {
  const file = modulePaths.get(d);
  return `backend ${String(d.name)}${file !== undefined ? ` (${file})` : ""}`;
}

const OPTION_TYPES = ["enum", "integer", "number", "boolean", "cpulist"];

/**
 * Check a descriptor's shape once, when it is loaded or used: name, description, options schema,
 * capabilities, register/validate. Throws ArchLoadError naming the first field that is wrong.
 */
export function checkDescriptor(d: ArchDescriptor, label: string): void {
  const fields = d as unknown as Record<string, unknown>;
  const bad = (what: string): never => {
    throw new ArchLoadError(`${label} exports a descriptor whose ${what} (see PORTING.md)`);
  };
  if (typeof d.name !== "string" || d.name === "")
    bad(`name is ${describeValue(d.name)}, not a non-empty string`);
  if (typeof d.description !== "string") bad(`description is ${describeValue(d.description)}, not a string`);
  if (typeof fields.register !== "function")
    bad(`register is ${describeValue(fields.register)}, not a function`);
  if (fields.topology !== undefined && typeof fields.topology !== "function")
    bad(`topology is ${describeValue(fields.topology)}, not a function`);
  if (fields.validate !== undefined && typeof fields.validate !== "function")
    bad(`validate is ${describeValue(fields.validate)}, not a function`);
  if (fields.ipiSendFence !== undefined && typeof fields.ipiSendFence !== "function")
    bad(`ipiSendFence is ${describeValue(fields.ipiSendFence)}, not a function`);
  if (
    fields.tracepoints !== undefined &&
    !(Array.isArray(fields.tracepoints) && fields.tracepoints.every((t) => typeof t === "string"))
  )
    bad(`tracepoints is ${describeValue(fields.tracepoints)}, not an array of tracepoint names`);
  if (
    fields.idleModes !== undefined &&
    !(
      Array.isArray(fields.idleModes) &&
      fields.idleModes.length > 0 &&
      fields.idleModes.every((m) => IDLE_MODES.includes(m as IdleMode))
    )
  )
    bad(
      `idleModes is ${describeValue(fields.idleModes)}, not a non-empty array of ${IDLE_MODES.join(" | ")}`,
    );
  if (fields.idlePollingFlag !== undefined && typeof fields.idlePollingFlag !== "boolean")
    bad(`idlePollingFlag is ${describeValue(fields.idlePollingFlag)}, not a boolean`);
  if (typeof d.capabilities !== "object" || d.capabilities === null)
    bad(`capabilities is ${describeValue(d.capabilities)}, not an object`);
  if (typeof d.options !== "object" || d.options === null || Array.isArray(d.options))
    bad(`options is ${describeValue(d.options)}, not an object of option specs`);
  for (const [name, spec] of Object.entries(d.options)) {
    const sp = spec as unknown as Record<string, unknown>;
    if (typeof sp !== "object" || sp === null || !OPTION_TYPES.includes(sp.type as string))
      bad(
        `option ${name} is ${describeValue(spec)}: expected { type: ${OPTION_TYPES.join(" | ")}, default, description }`,
      );
    const def = sp.default;
    const ok =
      sp.type === "enum"
        ? Array.isArray(sp.choices) && sp.choices.includes(def)
        : sp.type === "boolean"
          ? typeof def === "boolean"
          : sp.type === "cpulist"
            ? typeof def === "string"
            : typeof sp.min === "number" &&
              typeof sp.max === "number" &&
              typeof def === "number" &&
              def >= sp.min &&
              def <= sp.max &&
              (sp.type === "number" || Number.isInteger(def));
    if (!ok)
      bad(
        `option ${name} (${String(sp.type)}) has default ${describeValue(def)}, which its own spec refuses`,
      );
  }
}

/** Directories where `@smpcall/arch-*` packages can be found from here. */
function archSearchDirs(): string[] {
  const dirs = new Set<string>();
  for (const p of require.resolve.paths(ARCH_PACKAGE_PREFIX + "generic") ?? []) {
    const scope = path.join(p, "@smpcall");
    if (fs.existsSync(scope)) dirs.add(scope);
  }
  return [...dirs];
}

/** Names of installed packages that export a backend, sorted (empty shells are skipped). */
export function listArchNames(): string[] {
  return listArchs().map((d) => d.name);
}

/** Descriptors of every installed backend package, sorted by name. */
export function listArchs(): ArchDescriptor[] {
  const names = new Set<string>();
  for (const dir of archSearchDirs()) {
    for (const entry of fs.readdirSync(dir)) if (entry.startsWith("arch-")) names.add(entry.slice(5));
  }
  const out: ArchDescriptor[] = [];
  for (const name of [...names].sort()) {
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- an installed backend package, found at run time
      const d = descriptorFromModule(require(ARCH_PACKAGE_PREFIX + name));
      if (d) out.push(d);
    } catch {
      // a package that does not load is not a backend we can offer
    }
  }
  return out;
}

function firstLine(text: string): string {
  return String(text).split("\n")[0];
}
