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
 *
 * Tables: a command line with `$c` or `$c.k` in it (and the quoted lines under it) is a template
 * for the markdown table that follows its shell block: one command per data row, `$c` standing
 * for the row's c-th cell and `$c.k` for the k-th number in it (`3 x 2` holds 3 and 2,
 * `13,116 / 3,137 / 1.4` holds 13116, 3137 and 1.4). So a table of counts is checked against
 * what its command prints. Rows named in the line's comment as `rows 7, 8 not run` (searches
 * too long for this test) are not run, and with `rows 1, 2 only` only those are; `not run`
 * without rows leaves the whole line unchecked. The line's `exit N` holds for every row it runs.
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

/** A command line of a shell block, split: its environment, its arguments, its comment and the quoted lines under it. */
interface ParsedLine {
  /** Its line in the file, from 0. */
  readonly at: number;
  readonly envText: string;
  readonly command: string;
  readonly comment: string;
  readonly quoted: string[];
}

function parseLine(lines: string[], i: number): ParsedLine | null {
  const line = lines[i];
  const m = /^((?:[A-Z_]+=\S+ )*)npx smpcall (.*)$/.exec(line);
  if (m === null || /path\/to|my-arch|\.\/dist\/|\\$|merge|--shard/.test(line)) return null;
  const hash = m[2].indexOf(" #");
  const quoted: string[] = [];
  for (let j = i + 1; j < lines.length && lines[j].startsWith("#"); j++) {
    const q = /^#\s{2,}(.*)$|^# \(now\)\s+(.*)$/.exec(lines[j]);
    if (q !== null) quoted.push(q[1] ?? q[2]);
  }
  return {
    at: i,
    envText: m[1],
    command: (hash >= 0 ? m[2].slice(0, hash) : m[2]).trim(),
    comment: hash >= 0 ? m[2].slice(hash) : "",
    quoted,
  };
}

function toCommand(file: string, p: ParsedLine, line: string): DocCommand {
  const env = Object.fromEntries(
    p.envText
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map((a) => a.split("=", 2) as [string, string]),
  );
  const exit = /exit (\d)/.exec(p.comment);
  return {
    file,
    line,
    env,
    args: p.command.split(/\s+/),
    exit: exit ? Number(exit[1]) : 0,
    quoted: p.quoted.map((q) =>
      q
        .split("...")
        .map((s) => s.trim())
        .filter(Boolean),
    ),
  };
}

const PLACEHOLDER = /\$(\d+)(?:\.(\d+))?/g;

/** The data rows of the markdown table that starts at or after line `from` (before the next shell block or heading), as cells. */
function tableAfter(file: string, lines: string[], from: number): string[][] {
  let i = from;
  while (i < lines.length && !lines[i].startsWith("|")) {
    if (lines[i].startsWith("```") || lines[i].startsWith("#"))
      throw new Error(
        `${file}:${from}: a command template ($1, $2.1, ...) with no table after its shell block`,
      );
    i++;
  }
  const rows: string[][] = [];
  for (i += 2; i < lines.length && lines[i].startsWith("|"); i++)
    rows.push(
      lines[i]
        .trim()
        .replace(/^\||\|$/g, "")
        .split(/(?<!\\)\|/)
        .map((c) => c.trim()),
    );
  return rows;
}

/** `text` with `$c` replaced by the row's c-th cell and `$c.k` by the k-th number in it (commas dropped). */
function fill(file: string, text: string, row: string[], r: number): string {
  return text.replace(PLACEHOLDER, (_all, c: string, k: string | undefined) => {
    const cell = row[Number(c) - 1];
    const value =
      cell === undefined || k === undefined ? cell : (cell.match(/\d[\d,]*(?:\.\d+)?/g) ?? [])[Number(k) - 1];
    if (value === undefined)
      throw new Error(`${file}: table row ${r} (${row.join(" | ")}) has nothing for ${_all} in "${text}"`);
    return k === undefined ? value : value.replace(/,/g, "");
  });
}

function docCommands(): DocCommand[] {
  const out: DocCommand[] = [];
  for (const file of DOCS) {
    const lines = fs.readFileSync(path.join(root, file), "utf8").split("\n");
    let inSh = false;
    let templates: ParsedLine[] = [];
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i];
      if (line.startsWith("```")) {
        inSh = !inSh && line.trim() === "```sh";
        if (!inSh && templates.length > 0) {
          const rows = tableAfter(file, lines, i + 1);
          for (const t of templates) {
            const notRun = /\brows? ([\d, and]+) not run/.exec(t.comment);
            if (notRun === null && /not run/.test(t.comment)) continue;
            const skip = new Set((notRun?.[1].match(/\d+/g) ?? []).map(Number));
            const only = /\brows? ([\d, and]+) only\b/.exec(t.comment);
            const run = only === null ? null : new Set((only[1].match(/\d+/g) ?? []).map(Number));
            rows.forEach((row, k) => {
              if (skip.has(k + 1) || (run !== null && !run.has(k + 1))) return;
              const filled: ParsedLine = {
                ...t,
                command: fill(file, t.command, row, k + 1),
                quoted: t.quoted.map((q) => fill(file, q, row, k + 1)),
              };
              out.push(
                toCommand(
                  file,
                  filled,
                  `line ${t.at + 1}, row ${k + 1} (${row[0]}): npx smpcall ${filled.command}`,
                ),
              );
            });
          }
          templates = [];
        }
        continue;
      }
      if (!inSh) continue;
      const p = parseLine(lines, i);
      if (p === null) continue;
      if (/\$\d/.test(p.command)) templates.push(p);
      else out.push(toCommand(file, p, line));
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
    // Table rows from the templates (fault bound, weak memory, the two --policy all tables).
    expect(commands.filter((c) => /^line \d+, row \d+ /.test(c.line)).length).toBeGreaterThanOrEqual(15);
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
