import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { runWorkload } from "@smpcall/core";
import { descriptor as generic } from "@smpcall/arch-generic";
import { main } from "../src/cli/main";
import { memoryIo } from "../src/cli/io";
import { installProject, packWorkspaces, sh } from "./pack-helpers";

/** Each package and its folder in the repository. */
const FOLDERS: Record<string, string> = {
  "@smpcall/core": "core",
  "@smpcall/arch-generic": "arch-generic",
  "@smpcall/arch-x86": "arch-x86",
  "@smpcall/arch-powerpc": "arch-powerpc",
  "@smpcall/arch-sparc": "arch-sparc",
  "@smpcall/examples": "examples",
};
const PACKAGES = Object.keys(FOLDERS);

let tarballs: Record<string, string> = {};
let tmp = "";

beforeAll(() => {
  tarballs = packWorkspaces();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "smpcall-port-"));
}, 120_000);

afterAll(() => {
  for (const dir of [tmp, path.dirname(Object.values(tarballs)[0] ?? "")])
    if (dir.startsWith(os.tmpdir()) && dir.length > os.tmpdir().length + 1)
      fs.rmSync(dir, { recursive: true, force: true });
});

describe("packages a port outside the repository can depend on", () => {
  it("npm pack --workspaces makes one tarball per package, with metadata, README, licence, dist and types", () => {
    expect(Object.keys(tarballs).sort()).toEqual([...PACKAGES].sort());
    for (const name of PACKAGES) {
      const files = sh("tar", ["-tzf", tarballs[name]], tmp).split("\n");
      for (const f of [
        "package/package.json",
        "package/README.md",
        "package/LICENSE",
        "package/dist/index.js",
      ])
        expect(files).toContain(f);
      expect(files).toContain("package/dist/index.d.ts");
      expect(files.some((f) => f.endsWith(".tsbuildinfo"))).toBe(false);
      const pkg = JSON.parse(sh("tar", ["-xzOf", tarballs[name], "package/package.json"], tmp));
      expect(pkg).toMatchObject({ license: "MIT", engines: { node: ">=20.19.0" } });
      expect(pkg.repository.directory).toBe(FOLDERS[name]);
      expect(pkg.private).toBeUndefined();
      expect(pkg.exports["."].types).toBe("./dist/index.d.ts");
    }
  });

  it("smpcall new-arch writes a backend package; installed from the tarballs outside the repo, it builds and its npm test (the kit) passes; the packed core runs a backend and the kit from there", async () => {
    // The way a port in its own repository starts: the scaffold, then npm install (here the
    // unpublished packages come from the tarballs), build, test.
    const io = memoryIo({}, tmp);
    expect(await main(["new-arch", "demo", "--dir", "arch-demo"], io)).toBe(0);
    const dir = path.join(tmp, "arch-demo");
    const pkg = JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8"));
    expect(pkg.dependencies["@smpcall/core"]).toMatch(/^\^\d/);
    pkg.dependencies["@smpcall/core"] = `file:${tarballs["@smpcall/core"]}`;
    for (const name of PACKAGES.filter((n) => n !== "@smpcall/core"))
      pkg.devDependencies[name] = `file:${tarballs[name]}`;
    installProject(dir, pkg);

    sh("npm", ["run", "build"], dir);
    expect(fs.existsSync(path.join(dir, "dist/index.d.ts"))).toBe(true);
    const test = spawnSync("npm", ["test"], { cwd: dir, encoding: "utf8" });
    expect(test.stderr).toMatch(/conformance kit: demo/);
    expect(test.stderr).toMatch(/Tests: +\d+ passed, \d+ total/);
    expect(test.stderr).not.toMatch(/failed/);
    expect(test.status).toBe(0);

    // The CLI from the packed @smpcall/examples runs the new backend by path.
    const run = spawnSync(
      "npx",
      ["--no-install", "smpcall", "run", "--arch", "./dist/index.js", "--cpus", "16", "--json"],
      { cwd: dir, encoding: "utf8" },
    );
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    const report = JSON.parse(run.stdout);
    expect(report.config.arch).toBe("demo");
    expect(report.outcome.status).toBe("completed");
    expect(report.counts.callbacksRun).toBeGreaterThan(0);

    // Plain JavaScript against the packed core: a workload (the very report the sources give,
    // same seed) and the kit from @smpcall/core/conformance.
    fs.writeFileSync(
      path.join(dir, "main.js"),
      `const { runWorkload } = require("@smpcall/core");
const { runConformance } = require("@smpcall/core/conformance");
const { descriptor } = require("@smpcall/arch-generic");
const { report } = runWorkload({ cpus: 16, seed: 3, arch: descriptor, workload: "mixed", ops: 40 });
const kit = runConformance(descriptor, { cpuSizes: [2, 3, 64], schedules: 5 });
process.stdout.write(JSON.stringify({ core: require.resolve("@smpcall/core"), report, kit: kit.map((r) => r.name + ":" + r.status) }));
`,
    );
    const out = JSON.parse(sh(process.execPath, ["main.js"], dir));
    expect(out.core).toBe(fs.realpathSync(path.join(dir, "node_modules/@smpcall/core/dist/index.js")));
    const here = runWorkload({ cpus: 16, seed: 3, arch: generic, workload: "mixed", ops: 40 }).report;
    expect(out.report).toEqual(JSON.parse(JSON.stringify(here)));
    expect(out.report.counts.callbacksRun).toBeGreaterThan(40);
    for (const r of out.kit) expect(r).toMatch(/:(pass|skipped)$/);
    expect(out.kit.filter((r: string) => r.endsWith(":pass")).length).toBeGreaterThan(5);

    // The subpath exports carry their types for a TypeScript consumer (nodenext).
    fs.writeFileSync(
      path.join(dir, "check.ts"),
      `import { createSmpSystem, CpuMask, type ArchDescriptor } from "@smpcall/core";
import { runConformance, type ConformanceResult } from "@smpcall/core/conformance";
import { runConformanceSuite } from "@smpcall/core/conformance/jest";
import { descriptor } from "@smpcall/arch-generic";
const d: ArchDescriptor = descriptor;
const sys = createSmpSystem({ cpus: 4, seed: 1, arch: d });
const m: CpuMask = CpuMask.of(4, [1, 2]);
const r: ConformanceResult[] = runConformance(d, { only: ["descriptor-valid"] });
export const used = [sys, m, r, runConformanceSuite];
`,
    );
    const compilerOptions = {
      strict: true,
      noEmit: true,
      module: "nodenext",
      moduleResolution: "nodenext",
      target: "es2022",
      types: [],
      skipLibCheck: true,
    };
    fs.writeFileSync(
      path.join(dir, "tsconfig.check.json"),
      JSON.stringify({ compilerOptions, files: ["check.ts"] }),
    );
    sh(process.execPath, ["node_modules/typescript/bin/tsc", "-p", "tsconfig.check.json"], dir);
  }, 300_000);
});
