import { describe, expect, it } from "@jest/globals";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { main } from "../src/cli/main";
import { memoryIo } from "../src/cli/io";
import { SCAFFOLD_DEV_TOOLS, ipiClassName } from "../src/scaffold";

const REPO = path.resolve(__dirname, "../..");
const BIN = path.join(REPO, "examples/bin/smpcall.js");

async function cli(args: string[], cwd: string) {
  const io = memoryIo({}, cwd);
  const code = await main(args, io);
  return { code, stdout: io.stdout, stderr: io.stderr };
}

function tmpdir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), "smpcall-new-arch-"));
}

describe("smpcall new-arch", () => {
  it.each([["Bad!"], ["RISCV"], ["_x"], ["x-"], ["a/b"], [""], ["x".repeat(65)]])(
    "refuses the name %j with one line, exit 2, writing nothing",
    async (name) => {
      const cwd = tmpdir();
      const r = await cli(["new-arch", name], cwd);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/^smpcall: bad arch name ".*": use lowercase letters, digits/);
      expect(r.stderr.trimEnd().split("\n")).toHaveLength(1);
      expect(fs.readdirSync(cwd)).toEqual([]);
    },
  );

  it.each([["generic"], ["x86"], ["powerpc"], ["sparc"]])(
    "refuses %j, the name of an installed backend that --arch NAME would load instead (exit 2, nothing written)",
    async (name) => {
      const cwd = tmpdir();
      const r = await cli(["new-arch", name], cwd);
      expect({ code: r.code, stdout: r.stdout }).toEqual({ code: 2, stdout: "" });
      expect(r.stderr).toBe(
        `smpcall: arch name "${name}" is taken: --arch ${name} loads the installed backend package @smpcall/arch-${name}, so a new backend of that name could be loaded only by its path, and its package (also @smpcall/arch-${name}) would replace the installed one; choose another name, e.g. my-${name}\n`,
      );
      expect(fs.readdirSync(cwd)).toEqual([]);
      // the suggested name is free
      expect((await cli(["new-arch", `my-${name}`], cwd)).code).toBe(0);
    },
  );

  it("refuses a name ending in .js, .cjs or .mjs, which --arch takes for a module path", async () => {
    const cwd = tmpdir();
    for (const name of ["soc.js", "soc.cjs", "soc.mjs"]) {
      const r = await cli(["new-arch", name], cwd);
      expect({ name, code: r.code }).toEqual({ name, code: 2 });
      expect(r.stderr).toBe(
        `smpcall: bad arch name "${name}": --arch takes a name ending in .js, .cjs or .mjs for a module path, so --arch ${name} could never load the backend by its name; choose a name without that ending, e.g. soc\n`,
      );
    }
    expect(fs.readdirSync(cwd)).toEqual([]);
  });

  it("refuses an existing non-empty --dir (exit 2, one line, nothing touched) but fills an empty one", async () => {
    const cwd = tmpdir();
    fs.mkdirSync(path.join(cwd, "taken"));
    fs.writeFileSync(path.join(cwd, "taken", "keep.txt"), "mine");
    const r = await cli(["new-arch", "riscv", "--dir", "taken"], cwd);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      "smpcall: folder taken exists and is not empty: choose another --dir, or empty it first\n",
    );
    expect(fs.readdirSync(path.join(cwd, "taken"))).toEqual(["keep.txt"]);
    fs.mkdirSync(path.join(cwd, "empty"));
    const ok = await cli(["new-arch", "riscv", "--dir", "empty"], cwd);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/^created empty\/ \(package @smpcall\/arch-riscv\):/);
    const byDefault = await cli(["new-arch", "arm64-gic"], cwd);
    expect(byDefault.code).toBe(0);
    expect(fs.readFileSync(path.join(cwd, "arch-arm64-gic/src/index.ts"), "utf8")).toContain(
      "export class Arm64GicIpi implements ArchIpi",
    );
  });

  it("writes the package: @smpcall/core dependency, the kit in one line, PORT: marks naming real PORTING.md sections", async () => {
    const cwd = tmpdir();
    expect((await cli(["new-arch", "riscv"], cwd)).code).toBe(0);
    const dir = path.join(cwd, "arch-riscv");
    const files = (sub: string): string[] =>
      fs
        .readdirSync(path.join(dir, sub), { withFileTypes: true })
        .flatMap((e) => (e.isDirectory() ? files(path.join(sub, e.name)) : [path.join(sub, e.name)]));
    expect(files("").sort()).toEqual(
      [
        ".gitignore",
        "README.md",
        "jest.config.js",
        "package.json",
        "src/index.ts",
        "test/conformance.test.ts",
        "tsconfig.json",
      ].sort(),
    );
    const pkg = JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8"));
    const ours = JSON.parse(fs.readFileSync(path.join(REPO, "examples/package.json"), "utf8"));
    expect(pkg.name).toBe("@smpcall/arch-riscv");
    expect(pkg.dependencies["@smpcall/core"]).toBe(`^${ours.dependencies["@smpcall/core"]}`);
    expect(pkg.dependencies.tsyringe).toBe(ours.dependencies.tsyringe);
    const test = fs.readFileSync(path.join(dir, "test/conformance.test.ts"), "utf8");
    expect(test.split("\n").filter((l) => l.startsWith("runConformanceSuite("))).toEqual([
      "runConformanceSuite(descriptor);",
    ]);
    expect(fs.readFileSync(path.join(dir, "README.md"), "utf8")).toMatch(
      /npm run build[\s\S]*npm test[\s\S]*smpcall run --arch \.\/dist\/index\.js/,
    );
    // Every PORT: mark names PORTING.md sections that exist, with their titles.
    const guide = fs.readFileSync(path.join(REPO, "PORTING.md"), "utf8");
    const headings = new Map(
      [...guide.matchAll(/^## (\d+)\. (.*)$/gm)].map((m) => [m[1], m[2].replace(/`/g, "")]),
    );
    const src = fs.readFileSync(path.join(dir, "src/index.ts"), "utf8");
    const marks = src.split("\n").filter((l) => l.includes("// PORT:"));
    expect(marks.length).toBeGreaterThanOrEqual(8);
    const blocks = src.split(/\n(?=\s*\/\/ PORT:)/).slice(1);
    for (const block of blocks) {
      const refs = [...block.split(/\n\s*[^/\s]/)[0].matchAll(/§(\d+)(?: "([^"]+)")?/g)];
      expect(refs.length).toBeGreaterThan(0);
      for (const [, n, title] of refs) {
        expect(headings.has(n)).toBe(true);
        if (title !== undefined) expect(headings.get(n)).toContain(title);
      }
    }
    expect(guide).toContain("npx smpcall new-arch");
  });

  it("the generated backend passes the conformance kit as written (built with this repo's tsc, run by this CLI)", () => {
    const cwd = tmpdir();
    const io = memoryIo({}, cwd);
    void main(["new-arch", "demo"], io);
    const dir = path.join(cwd, "arch-demo");
    // Resolve @smpcall/core and the tools from this repository, the way an installed package would.
    fs.symlinkSync(path.join(REPO, "node_modules"), path.join(dir, "node_modules"), "dir");
    const tsc = spawnSync(process.execPath, [path.join(REPO, "node_modules/typescript/bin/tsc"), "-p", "."], {
      cwd: dir,
      encoding: "utf8",
    });
    expect(tsc.stdout + tsc.stderr).toBe("");
    const kit = spawnSync(
      process.execPath,
      [BIN, "conform", "--arch", "./dist/index.js", "--cpus", "2,3,64", "--json"],
      { cwd: dir, encoding: "utf8" },
    );
    expect(kit.stderr).toBe("");
    const out = JSON.parse(kit.stdout) as { arch: string; passed: boolean; results: { status: string }[] };
    expect(out.arch).toBe("demo");
    expect(out.results.filter((r) => r.status === "fail")).toEqual([]);
    expect(out.passed).toBe(true);
    expect(kit.status).toBe(0);
  }, 120_000);

  it("pins the tools this repository builds with, and names the ArchIpi class from the name", () => {
    const root = JSON.parse(fs.readFileSync(path.join(REPO, "package.json"), "utf8"));
    for (const [name, version] of Object.entries(SCAFFOLD_DEV_TOOLS))
      expect(`${name}@${root.devDependencies[name]}`).toBe(`${name}@${version}`);
    expect(ipiClassName("riscv")).toBe("RiscvIpi");
    expect(ipiClassName("arm64-gic")).toBe("Arm64GicIpi");
    expect(ipiClassName("s390.x_v2")).toBe("S390XV2Ipi");
    expect(ipiClassName("8051")).toBe("Arch8051Ipi");
  });
});
