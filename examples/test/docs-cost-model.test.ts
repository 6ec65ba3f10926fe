import { describe, expect, it } from "@jest/globals";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import "reflect-metadata";
import { createSmpSystem, type ArchDescriptor } from "@smpcall/core";
import { descriptor as generic } from "@smpcall/arch-generic";
import { descriptor as x86 } from "@smpcall/arch-x86";
import { descriptor as powerpc } from "@smpcall/arch-powerpc";
import { descriptor as sparc } from "@smpcall/arch-sparc";

/**
 * docs/cost-model.md quotes end-to-end times ("What that adds up to") that every timing change
 * can make stale. This test measures each row as the doc says it was measured and compares it
 * with the doc's figures, so a model change that moves one fails here until the doc is updated.
 */
const doc = readFileSync(join(__dirname, "../../docs/cost-model.md"), "utf8");

/** The rows of the table under "What that adds up to": the first cell, then the three times' cells. */
function tableRows(): Map<string, string[]> {
  const section = doc.slice(doc.indexOf("### What that adds up to"));
  const rows = new Map<string, string[]>();
  for (const line of section.split("\n")) {
    const cells = line.split("|").map((c) => c.trim());
    if (cells.length < 5 || !/^\d/.test(cells[2] ?? "")) continue;
    rows.set(cells[1], cells.slice(2, 5));
  }
  return rows;
}

/** The first number of a cell ("4,155 (shorthand); ..." -> 4155). */
const firstNumber = (cell: string): number => Number(/[\d,]+/.exec(cell)![0].replace(/,/g, ""));

/** Virtual ns of one call from CPU 0 after a 10 µs wait, on a machine of `cpus` with jitter off. */
function timeCall(
  arch: ArchDescriptor,
  archOptions: Record<string, string | number | boolean>,
  cpus: number,
  call: "single" | "broadcast",
  target = 1,
): number {
  const sys = createSmpSystem({ cpus, seed: 1, arch, archOptions, cost: { deliveryJitter: 0 } });
  const k = sys.kernel;
  let took = -1;
  sys.spawn(
    0,
    (function* () {
      yield 10_000;
      const start = sys.machine.now;
      if (call === "single") yield* k.smpCallFunctionSingle(target, () => {}, null, true);
      else yield* k.smpCallFunction(() => {}, null, true);
      took = sys.machine.now - start;
    })(),
  );
  expect(sys.run().status).toBe("completed");
  return took;
}

type Row = [string, ArchDescriptor, Record<string, string | number | boolean>];

/** The values an enum option of `arch` takes (its platforms), as `smpcall archs` lists them. */
function choicesOf(arch: ArchDescriptor, option: string): readonly string[] {
  const spec = arch.options[option];
  return spec.type === "enum" ? spec.choices : [];
}

/** Each row's backend and options, as the row's first cell names them: every platform has a row. */
const ROWS: Row[] = [
  ["generic", generic, {}],
  ["x86 `flat` (8 CPUs: 0→7, 7 targets)", x86, { apic: "flat" }],
  ["x86 `physflat`", x86, { apic: "physflat" }],
  ["x86 `x2apic-cluster`", x86, { apic: "x2apic-cluster" }],
  ["x86 `x2apic-phys`", x86, { apic: "x2apic-phys" }],
  ["x86 `pvIpi=true`", x86, { pvIpi: true }],
  ...choicesOf(powerpc, "platform").map((p): Row => [`powerpc \`${p}\``, powerpc, { platform: p }]),
  ...choicesOf(sparc, "platform").map((p): Row => [`sparc \`${p}\``, sparc, { platform: p }]),
];

describe("docs/cost-model.md: the end-to-end times it quotes are what the model does", () => {
  const rows = tableRows();

  it("the table lists exactly the rows measured here", () => {
    expect([...rows.keys()].sort()).toEqual(ROWS.map((r) => r[0]).sort());
  });

  it.each(ROWS)("%s", (name, arch, options) => {
    const cells = rows.get(name)!;
    const cpus = name.includes("`flat`") ? 8 : 32;
    const measured = [
      timeCall(arch, options, cpus, "single", 1),
      timeCall(arch, options, cpus, "single", cpus - 1),
      timeCall(arch, options, cpus, "broadcast"),
    ];
    expect(measured).toEqual(cells.map(firstNumber));
  });

  it("x2apic-cluster with the shorthand off: the second figure of its broadcast cell", () => {
    const cell = rows.get("x86 `x2apic-cluster`")![2];
    const off = /([\d,]+) with `shorthand=off`/.exec(cell);
    expect(off).not.toBeNull();
    const measured = timeCall(x86, { apic: "x2apic-cluster", shorthand: "off" }, 32, "broadcast");
    expect(measured).toBe(firstNumber(off![1]));
  });

  it("the generic broadcast to 63 CPUs the text quotes", () => {
    const quoted = /a broadcast to 63 CPUs about \d+ µs \(([\d,]+) ns/.exec(doc);
    expect(quoted).not.toBeNull();
    expect(timeCall(generic, {}, 64, "broadcast")).toBe(firstNumber(quoted![1]));
  });
});
