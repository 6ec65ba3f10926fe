import * as fs from "node:fs";
import * as path from "node:path";
import { UsageError } from "@smpcall/core";
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
 * Write a new backend package for `name` into `dir` (default `arch-<name>`, relative to `cwd`).
 * Refuses (UsageError) a bad name and a folder that exists and is not empty.
 */
export function writeScaffold(name: string, dir: string | undefined, cwd: string): ScaffoldResult {
  checkArchName(name);
  const target = path.resolve(cwd, dir ?? `arch-${name}`);
  if (fs.existsSync(target)) {
    if (!fs.statSync(target).isDirectory())
      throw new UsageError(`${dir ?? `arch-${name}`} exists and is not a folder: choose another --dir`);
    if (fs.readdirSync(target).length > 0)
      throw new UsageError(
        `folder ${dir ?? `arch-${name}`} exists and is not empty: choose another --dir, or empty it first`,
      );
  }
  const files = scaffoldFiles({ name, ...scaffoldVersions() });
  for (const [rel, text] of Object.entries(files)) {
    const file = path.join(target, rel);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, text);
  }
  return { dir: target, files: Object.keys(files) };
}
