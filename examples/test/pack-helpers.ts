/** Helpers for the tests that use smpcall the way a port in its own repository does: packed tarballs installed outside the repo. */
import { spawnSync, type SpawnSyncReturns } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

/** The repository root. */
export const REPO = path.resolve(__dirname, "../..");

/** Run a command; throw with its output if it fails. */
export function sh(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): string {
  const r: SpawnSyncReturns<string> = spawnSync(cmd, args, {
    cwd,
    encoding: "utf8",
    env: { ...process.env, npm_config_update_notifier: "false", ...env },
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.error) throw r.error;
  if (r.status !== 0)
    throw new Error(`${cmd} ${args.join(" ")} (in ${cwd}) exited ${r.status}:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** `npm pack --workspaces` into a fresh temporary folder; returns package name -> tarball path. */
export function packWorkspaces(): Record<string, string> {
  const dest = fs.mkdtempSync(path.join(os.tmpdir(), "smpcall-pack-"));
  const out = sh("npm", ["pack", "--workspaces", "--json", "--pack-destination", dest], REPO);
  // npm prints the prepack scripts' banners before the JSON array.
  const list = JSON.parse(out.slice(out.indexOf("\n[") + 1)) as { name: string; filename: string }[];
  return Object.fromEntries(list.map((p) => [p.name, path.join(dest, p.filename)]));
}

/**
 * A temporary project outside the repository whose package.json depends on `deps` (name ->
 * spec, e.g. a tarball path), installed with npm from the tarballs and the npm cache (the
 * registry only for what the cache lacks).
 */
export function installProject(dir: string, pkg: Record<string, unknown>): void {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify(pkg, null, 2) + "\n");
  sh("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error"], dir);
}
