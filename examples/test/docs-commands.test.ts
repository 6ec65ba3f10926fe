import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

/**
 * The `npx smpcall ...` lines of the README's and docs/explorer.md's shell blocks, run as a user
 * runs them (the real CLI, a process each, in a scratch directory that has the repository's
 * `examples/` beside it): each must end with the exit status its comment gives (`exit N`, else 0),
 * and the output lines the docs quote under a command (`#   ...` or `# (now) ...`, `...` standing
 * for what is left out) must be in what it prints. A changed option, scenario name, state count
 * or verdict wording makes the docs wrong and fails here.
 *
 * Not run: lines naming a module the reader writes (`./path/to/my-arch.js`, `./my-arch.js`, `./dist/`),
 * continued lines (`\`), and shard/merge lines (they need the shard files of a batch job).
 * Two searches take a minute on this machine, so they run with `--runs 300` (HEAVY below):
 * their options and first verdicts are checked, not their totals.
 */
const root = path.join(__dirname, "../..");
const bin = path.join(root, "examples/bin/smpcall.js");
const DOCS = ["README.md", "docs/explorer.md"];
const HEAVY = ["--policy poll-own-queue --cpus 3 --calls 2", "--policy all --cpus 3 --calls 2"];

interface DocCommand {
  readonly file: string;
  readonly line: string;
  readonly env: Record<string, string>;
  readonly args: string[];
  readonly exit: number;
  /** Fragments the output must hold, in order within each quoted line. */
  readonly quoted: string[][];
}

function docCommands(): DocCommand[] {
  const out: DocCommand[] = [];
  for (const file of DOCS) {
    const lines = fs.readFileSync(path.join(root, file), "utf8").split("\n");
    let inSh = false;
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i];
      if (line.startsWith("```")) {
        inSh = !inSh && line.trim() === "```sh";
        continue;
      }
      if (!inSh) continue;
      const m = /^((?:[A-Z_]+=\S+ )*)npx smpcall (.*)$/.exec(line);
      if (m === null || /path\/to|my-arch|\.\/dist\/|\\$|merge|--shard/.test(line)) continue;
      const hash = m[2].indexOf(" #");
      const command = (hash >= 0 ? m[2].slice(0, hash) : m[2]).trim();
      const comment = hash >= 0 ? m[2].slice(hash) : "";
      const env = Object.fromEntries(
        m[1]
          .trim()
          .split(/\s+/)
          .filter(Boolean)
          .map((a) => a.split("=", 2) as [string, string]),
      );
      const quoted: string[][] = [];
      for (let j = i + 1; j < lines.length && lines[j].startsWith("#"); j++) {
        const q = /^#\s{2,}(.*)$|^# \(now\)\s+(.*)$/.exec(lines[j]);
        if (q !== null)
          quoted.push(
            (q[1] ?? q[2])
              .split("...")
              .map((s) => s.trim())
              .filter(Boolean),
          );
      }
      const exit = /exit (\d)/.exec(comment);
      out.push({ file, line, env, args: command.split(/\s+/), exit: exit ? Number(exit[1]) : 0, quoted });
    }
  }
  return out;
}

const commands = docCommands();
let dir = "";

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "smpcall-docs-"));
  fs.symlinkSync(path.join(root, "examples"), path.join(dir, "examples"));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe("the commands the README and docs/explorer.md show", () => {
  it("are found (the docs' shell blocks still hold them)", () => {
    expect(commands.length).toBeGreaterThanOrEqual(20);
    expect(commands.filter((c) => c.quoted.length > 0).length).toBeGreaterThanOrEqual(3);
  });

  it.each(commands.map((c) => [`${c.file}: ${c.line.slice(0, 110)}`, c] as const))("%s", (_name, c) => {
    const heavy = HEAVY.some((h) => c.line.includes(h));
    const args = heavy ? [...c.args, "--runs", "300"] : c.args;
    const env: NodeJS.ProcessEnv = { ...process.env, ...c.env };
    if (!("SMPCALL_ARCH" in c.env)) delete env.SMPCALL_ARCH;
    const r = spawnSync(process.execPath, [bin, ...args], {
      cwd: dir,
      env,
      encoding: "utf8",
      timeout: 120_000,
    });
    const shown = `${args.join(" ")}\n${r.stdout}\n${r.stderr}`;
    expect({ status: r.status, shown }).toEqual({ status: c.exit, shown });
    expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
    if (heavy) return;
    for (const fragments of c.quoted) {
      let at = 0;
      for (const f of fragments) {
        const k = r.stdout.indexOf(f, at);
        expect({ fragment: f, found: k >= 0, stdout: r.stdout }).toEqual({
          fragment: f,
          found: true,
          stdout: r.stdout,
        });
        at = k + f.length;
      }
    }
  });
});
