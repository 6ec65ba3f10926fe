import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { runWorkload } from "@smpcall/core";
import { descriptor as generic } from "@smpcall/arch-generic";
import { REPO, installProject, packWorkspaces, sh } from "./pack-helpers";

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

  it("the packed @smpcall/core, installed in a folder outside the repo, runs a backend and the kit (JS and TypeScript)", () => {
    const dir = path.join(tmp, "uses-core");
    installProject(dir, {
      name: "uses-core",
      version: "1.0.0",
      private: true,
      dependencies: {
        "@smpcall/core": `file:${tarballs["@smpcall/core"]}`,
        "@smpcall/arch-generic": `file:${tarballs["@smpcall/arch-generic"]}`,
      },
    });
    fs.writeFileSync(
      path.join(dir, "main.js"),
      `require("reflect-metadata");
const { runWorkload } = require("@smpcall/core");
const { runConformance } = require("@smpcall/core/conformance");
const { descriptor } = require("@smpcall/arch-generic");
const { report } = runWorkload({ cpus: 16, seed: 3, arch: descriptor, workload: "mixed", ops: 40 });
const kit = runConformance(descriptor, { cpuSizes: [2, 3, 64], schedules: 5 });
process.stdout.write(JSON.stringify({ core: require.resolve("@smpcall/core"), report, kit: kit.map((r) => r.name + ":" + r.status) }));
`,
    );
    const out = JSON.parse(sh(process.execPath, ["main.js"], dir));
    expect(out.core).toBe(fs.realpathSync(path.join(dir, "node_modules/@smpcall/core/dist/index.js")));
    // The packaged code gives the very report the sources give (same seed, same run).
    const here = runWorkload({ cpus: 16, seed: 3, arch: generic, workload: "mixed", ops: 40 }).report;
    expect(out.report).toEqual(JSON.parse(JSON.stringify(here)));
    expect(out.report.counts.callbacksRun).toBeGreaterThan(40);
    expect(out.kit.length).toBeGreaterThan(5);
    for (const r of out.kit) expect(r).toMatch(/:(pass|skipped)$/);
    expect(out.kit.filter((r: string) => r.endsWith(":pass")).length).toBeGreaterThan(5);

    // The types resolve through "exports" for a TypeScript consumer (nodenext), with the repo's tsc.
    fs.writeFileSync(
      path.join(dir, "check.ts"),
      `import "reflect-metadata";
import { createSmpSystem, CpuMask, type ArchDescriptor } from "@smpcall/core";
import { runConformance, type ConformanceResult } from "@smpcall/core/conformance";
import { descriptor } from "@smpcall/arch-generic";
const d: ArchDescriptor = descriptor;
const sys = createSmpSystem({ cpus: 4, seed: 1, arch: d });
const m: CpuMask = CpuMask.of(4, [1, 2]);
const r: ConformanceResult[] = runConformance(d, { only: ["descriptor-valid"] });
export const used = [sys, m, r];
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
      path.join(dir, "tsconfig.json"),
      JSON.stringify({ compilerOptions, files: ["check.ts"] }),
    );
    sh(process.execPath, [path.join(REPO, "node_modules/typescript/bin/tsc"), "-p", "."], dir);
  }, 120_000);
});
