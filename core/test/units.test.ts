import { describe, expect, it } from "@jest/globals";
import {
  ArchOptionError,
  CallSingleData,
  CallSingleQueue,
  WarningLog,
  chooseArchSpec,
  cpulistOption,
  describeAccepted,
  isModulePath,
  loadArch,
  parseArchOptionPairs,
  parseArchOptions,
  type ArchOptionsSchema,
} from "@smpcall/core";

const csd = (id: number) => new CallSingleData(id, "caller", -1);

describe("CallSingleQueue (llist)", () => {
  it("add reports whether the queue was empty; delAll returns FIFO order and empties it", () => {
    const q = new CallSingleQueue(2);
    expect(q.add(1, csd(1))).toBe(true);
    expect(q.add(1, csd(2))).toBe(false);
    expect(q.add(1, csd(3))).toBe(false);
    expect(q.entries(1).map((c) => c.id)).toEqual([3, 2, 1]);
    const ids: number[] = [];
    for (let e = q.delAll(1); e !== null; e = e.next) ids.push(e.id);
    expect(ids).toEqual([1, 2, 3]);
    expect(q.isEmpty(1)).toBe(true);
    expect(q.delAll(1)).toBeNull();
    expect(q.add(1, csd(4))).toBe(true);
  });

  it("a list taken by delAll is the taker's: later adds start a new list; queues of different CPUs do not mix", () => {
    const q = new CallSingleQueue(3);
    const [a, b, c] = [csd(1), csd(2), csd(3)];
    q.add(2, a);
    q.add(2, b);
    const taken = q.delAll(2);
    expect(q.add(2, c)).toBe(true);
    expect(q.add(0, csd(9))).toBe(true);
    const ids: number[] = [];
    for (let e = taken; e !== null; e = e.next) ids.push(e.id);
    expect(ids).toEqual([1, 2]);
    // An entry of the taken list queued again (once its owner unlocked it) joins the new list at its end.
    expect(q.add(2, a)).toBe(false);
    expect(q.entries(2).map((e) => e.id)).toEqual([1, 3]);
    expect(q.entries(0).map((e) => e.id)).toEqual([9]);
    expect(q.entries(1)).toEqual([]);
  });
});

describe("backend options", () => {
  const schema: ArchOptionsSchema = {
    mode: { type: "enum", choices: ["a", "b"], default: "a", description: "m" },
    depth: { type: "integer", min: 1, max: 8, default: 4, description: "d" },
    rate: { type: "number", min: 0, max: 1, default: 0, description: "r" },
    pv: { type: "boolean", default: false, description: "p" },
    bad: { type: "cpulist", default: "", description: "c" },
  };

  it("fills defaults and coerces text values", () => {
    expect(parseArchOptions("t", schema, {})).toEqual({ mode: "a", depth: 4, rate: 0, pv: false, bad: "" });
    expect(
      parseArchOptions("t", schema, { mode: "b", depth: "8", rate: "0.25", pv: "on", bad: "1,3-4" }),
    ).toEqual({ mode: "b", depth: 8, rate: 0.25, pv: true, bad: "1,3-4" });
  });

  it.each([
    [{ mode: "c" }, /bad value "c" for option mode of arch t: expected a \| b/],
    [{ depth: "9" }, /expected integer 1\.\.8/],
    [{ depth: "2.5" }, /expected integer 1\.\.8/],
    [{ rate: "x" }, /expected number 0\.\.1/],
    [{ pv: "maybe" }, /expected true \| false/],
    [{ bad: "1-" }, /expected cpulist/],
    [{ nope: "1" }, /unknown option "nope" for arch t; its options are: mode, depth, rate, pv, bad/],
  ])("rejects %j with an ArchOptionError naming the choices", (raw, msg) => {
    expect(() => parseArchOptions("t", schema, raw)).toThrow(ArchOptionError);
    expect(() => parseArchOptions("t", schema, raw)).toThrow(msg);
  });

  it("parses NAME=VALUE pairs, comma lists included, and cpulists against the machine size", () => {
    expect(parseArchOptionPairs(["a=1", "b=x,c=y"])).toEqual({ a: "1", b: "x", c: "y" });
    expect(() => parseArchOptionPairs(["oops"])).toThrow(/expected NAME=VALUE/);
    expect(cpulistOption("t", "bad", "1,3", 4).toString()).toBe("1,3");
    expect(() => cpulistOption("t", "bad", "9", 4)).toThrow(
      /option bad of arch t: cpulist part "9" is outside 0-3/,
    );
    expect(describeAccepted(schema.depth)).toBe("integer 1..8");
  });
});

describe("WarningLog", () => {
  it("records a site once and counts repeats; pr_warn-style warnings keep each distinct message", () => {
    const w = new WarningLog();
    expect(w.warnOnce("s", 1, 10, "first")).toBe(true);
    expect(w.warnOnce("s", 2, 20, "again")).toBe(false);
    w.warn("cb", 3, 30, "IPI callback a sent to offline CPU");
    w.warn("cb", 3, 31, "IPI callback b sent to offline CPU");
    w.warn("cb", 3, 32, "IPI callback a sent to offline CPU");
    expect(w.records.map((r) => [r.site, r.cpu, r.count])).toEqual([
      ["s", 1, 2],
      ["cb:IPI callback a sent to offline CPU", 3, 2],
      ["cb:IPI callback b sent to offline CPU", 3, 1],
    ]);
    expect(w.bySitePrefix("cb:")).toHaveLength(2);
  });
});

describe("backend selection", () => {
  it("uses the flag, else $SMPCALL_ARCH, else generic", () => {
    expect(chooseArchSpec("x86", { SMPCALL_ARCH: "sparc" })).toBe("x86");
    expect(chooseArchSpec(undefined, { SMPCALL_ARCH: " sparc " })).toBe("sparc");
    expect(chooseArchSpec(undefined, {})).toBe("generic");
  });
  it("treats paths and .js files as modules, names as packages", () => {
    expect(isModulePath("./a.js")).toBe(true);
    expect(isModulePath("my-arch.js")).toBe(true);
    expect(isModulePath("/abs/dir")).toBe(true);
    expect(isModulePath("x86")).toBe(false);
  });
  it("loads a backend by name and refuses bad names", () => {
    expect(loadArch("generic").name).toBe("generic");
    expect(() => loadArch("Bad Name!")).toThrow(/bad arch name "Bad Name!"/);
  });
});
