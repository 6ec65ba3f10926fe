import { describe, expect, it } from "@jest/globals";
import { main } from "../src/cli/main";
import { memoryIo } from "../src/cli/io";
import { describeAccepted, type ArchDescriptor } from "@smpcall/core";
import { descriptor as generic } from "@smpcall/arch-generic";
import { descriptor as x86 } from "@smpcall/arch-x86";
import { descriptor as powerpc } from "@smpcall/arch-powerpc";
import { descriptor as sparc } from "@smpcall/arch-sparc";

async function cli(args: string[]) {
  const io = memoryIo();
  const code = await main(args, io);
  return { code, stdout: io.stdout };
}

const BUILT_IN: readonly ArchDescriptor[] = [generic, powerpc, sparc, x86];

describe("smpcall archs lists every option of every built-in backend", () => {
  it("text: one line per option with what it accepts, and every choice of the mode options", async () => {
    const r = await cli(["archs"]);
    expect(r.code).toBe(0);
    for (const d of BUILT_IN) {
      const block = r.stdout.split(/\n\n/).find((b) => b.startsWith(d.name))!;
      expect(block).toBeDefined();
      for (const [name, spec] of Object.entries(d.options))
        expect(block).toContain(`    ${name} = ${describeAccepted(spec)} (default `);
      const lines = block.split("\n").filter((l) => /^ {4}\S+ = /.test(l));
      expect(lines).toHaveLength(Object.keys(d.options).length);
      expect(block).toContain(`signalStatistic=`);
    }
    // The modes a porting engineer chooses between, by name.
    for (const mode of ["flat", "physflat", "x2apic-cluster", "x2apic-phys"])
      expect(r.stdout).toContain(mode);
    for (const platform of [
      "powernv-power8",
      "powernv-power9",
      "pseries-powervm-xive",
      "pseries-powervm-xics",
      "pseries-kvm-xive",
      "pseries-kvm-xics",
      "mpic-2008",
      "sun4v",
      "sun4u-cheetah",
      "sun4u-spitfire",
    ])
      expect(r.stdout).toContain(platform);
  });

  it("--json: the same option schemas, for every backend", async () => {
    const json = JSON.parse((await cli(["archs", "--json"])).stdout) as {
      archs: { name: string; options: Record<string, unknown>; capabilities: Record<string, unknown> }[];
    };
    for (const d of BUILT_IN) {
      const a = json.archs.find((x) => x.name === d.name)!;
      expect(Object.keys(a.options)).toEqual(Object.keys(d.options));
      expect(a.capabilities.signalStatistic).toBe(d.capabilities.signalStatistic);
    }
  });
});
