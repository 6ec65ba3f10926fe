import * as fs from "node:fs";
import * as path from "node:path";
import { ARCH_PACKAGE_PREFIX, UsageError, isModulePath } from "@smpcall/core";
import { checkArchName } from "./names";
import { scaffoldFiles, type ScaffoldInput } from "./templates";

/** What {@link writeScaffold} wrote. */
export interface ScaffoldResult {
  /** The package folder (absolute). */
  readonly dir: string;
  /** The files written, relative to `dir`. */
  readonly files: readonly string[];
}

/** The versions a new backend depends on: the ones this CLI was built with (its package.json). */
export function scaffoldVersions(): Omit<ScaffoldInput, "name"> {
  const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, "..", "..", "package.json"), "utf8")) as {
    version: string;
    dependencies: Record<string, string>;
  };
  return {
    coreVersion: pkg.dependencies["@smpcall/core"],
    cliVersion: pkg.version,
    tsyringeVersion: pkg.dependencies.tsyringe,
    reflectMetadataVersion: pkg.dependencies["reflect-metadata"],
  };
}

/**
 * Is `@smpcall/arch-<name>` installed where `--arch NAME` looks for it (resolved from
 * `@smpcall/core`, as its loader does)? Then `--arch NAME` loads that package, whatever else
 * bears the name.
 */
export function isInstalledArchName(name: string): boolean {
  try {
    require.resolve(ARCH_PACKAGE_PREFIX + name, { paths: [path.dirname(require.resolve("@smpcall/core"))] });
    return true;
  } catch {
    return false;
  }
}

/**
 * Refuse (UsageError) a new backend's name that `--arch NAME` can never load it by: the name of
 * an installed backend package (the built-ins generic, x86, powerpc, sparc, or another
 * `@smpcall/arch-*` installed here), whose package the new one would also replace when
 * installed; or a name ending in .js/.cjs/.mjs, which `--arch` takes for a module path.
 */
export function checkNewArchName(name: string): void {
  checkArchName(name);
  if (isModulePath(name))
    throw new UsageError(
      `bad arch name "${name}": --arch takes a name ending in .js, .cjs or .mjs for a module path, so --arch ${name} could never load the backend by its name; choose a name without that ending, e.g. ${name.replace(/\.(c|m)?js$/, "")}`,
    );
  if (isInstalledArchName(name))
    throw new UsageError(
      `arch name "${name}" is taken: --arch ${name} loads the installed backend package ${ARCH_PACKAGE_PREFIX}${name}, so a new backend of that name could be loaded only by its path, and its package (also ${ARCH_PACKAGE_PREFIX}${name}) would replace the installed one; choose another name, e.g. my-${name}`,
    );
}

/**
 * Write a new backend package for `name` into `dir` (default `arch-<name>`, relative to `cwd`).
 * Refuses (UsageError) a bad name (see {@link checkNewArchName}) and a folder that exists and is
 * not empty.
 */
export function writeScaffold(name: string, dir: string | undefined, cwd: string): ScaffoldResult {
  checkNewArchName(name);
  const target = path.resolve(cwd, dir ?? `arch-${name}`);
  if (fs.existsSync(target)) {
    if (!fs.statSync(target).isDirectory())
      throw new UsageError(`${dir ?? `arch-${name}`} exists and is not a folder: choose another --dir`);
    if (fs.readdirSync(target).length > 0)
      throw new UsageError(
        `folder ${dir ?? `arch-${name}`} exists and is not empty: choose another --dir, or empty it first`,
      );
  }
  const shown = dir ?? `arch-${name}`;
  const files = scaffoldFiles({ name, ...scaffoldVersions() });
  for (const [rel, text] of Object.entries(files)) {
    const file = path.join(target, rel);
    makeFolders(path.dirname(file), shown);
    try {
      fs.writeFileSync(file, text);
    } catch (e) {
      throw new UsageError(`cannot write ${path.join(shown, rel)}: ${(e as Error).message}`);
    }
  }
  return { dir: target, files: Object.keys(files) };
}

/**
 * Create `folder` and its missing parents one level at a time. Not `mkdirSync(recursive)`: in a
 * file system that refuses new entries with ENOENT (`--dir /proc/x`), Node's recursive mkdir
 * retries for ever; here any refusal is a UsageError naming `shown` (the --dir given).
 */
function makeFolders(folder: string, shown: string): void {
  const missing: string[] = [];
  let at = folder;
  while (!fs.existsSync(at)) {
    missing.unshift(at);
    const up = path.dirname(at);
    if (up === at) break;
    at = up;
  }
  if (fs.existsSync(at) && !fs.statSync(at).isDirectory())
    throw new UsageError(`cannot create folder ${shown}: ${at} is not a folder`);
  for (const m of missing) {
    try {
      fs.mkdirSync(m);
    } catch (e) {
      throw new UsageError(`cannot create folder ${shown}: ${(e as Error).message}`);
    }
  }
}
