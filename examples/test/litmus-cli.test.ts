import { describe, expect, it } from "@jest/globals";
import { main } from "../src/cli/main";
import { memoryIo } from "../src/cli/io";

describe("smpcall litmus", () => {
  it("prints every test under every model, each verdict as §12 gives it (LB reached under lkmm)", async () => {
    const io = memoryIo();
    expect(await main(["litmus"], io)).toBe(0);
    const lines = io.stdout.trim().split("\n");
    expect(lines[0]).toMatch(/^test\s+model\s+executions\s+weak outcome\s+reached\s+§12 says$/);
    expect(lines).toHaveLength(1 + 9 * 3);
    expect(lines.find((l) => /^SB\s+tso\s/.test(l))).toMatch(/r0=0 r1=0\s+yes\s+allowed$/);
    expect(lines.find((l) => /^SB\+mb\s+lkmm\s/.test(l))).toMatch(/no\s+forbidden$/);
    expect(lines.find((l) => /^LB\s+lkmm\s/.test(l))).toMatch(/r0=1 r1=1\s+yes\s+allowed$/);
    expect(lines.filter((l) => l.includes("differs"))).toEqual([]);
  });

  it("--json with --memory and --test picks rows and gives outcome counts", async () => {
    const io = memoryIo();
    expect(await main(["litmus", "--memory", "tso", "--test", "MP", "--test", "SB", "--json"], io)).toBe(0);
    const { rows } = JSON.parse(io.stdout) as {
      rows: {
        test: string;
        model: string;
        weakReached: boolean;
        outcomes: Record<string, number>;
        executions: number;
      }[];
    };
    expect(rows.map((r) => `${r.test}/${r.model}/${r.weakReached}`)).toEqual(["MP/tso/false", "SB/tso/true"]);
    for (const r of rows) expect(Object.values(r.outcomes).reduce((a, b) => a + b, 0)).toBe(r.executions);
  });

  it("keeps the columns under the header when every test name is shorter than 'test' (--test SB)", async () => {
    const io = memoryIo();
    expect(await main(["litmus", "--test", "SB", "--memory", "sc"], io)).toBe(0);
    const [header, row] = io.stdout.trim().split("\n");
    expect(row.indexOf("sc")).toBe(header.indexOf("model"));
  });

  it("refuses an unknown model or test with one line and exit 2", async () => {
    const a = memoryIo();
    expect(await main(["litmus", "--memory", "arm"], a)).toBe(2);
    expect(a.stderr.trim()).toBe('smpcall: bad --memory "arm": choose one of sc, tso, lkmm');
    const b = memoryIo();
    expect(await main(["litmus", "--test", "IRIW"], b)).toBe(2);
    expect(b.stderr.trim().split("\n")).toHaveLength(1);
    expect(b.stderr).toMatch(/bad --test "IRIW": choose one of MP, MP\+wmb\+rmb/);
  });
});
