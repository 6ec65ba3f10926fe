import { describe, expect, it } from "@jest/globals";
import { CpuMask, InvalidArgumentError } from "@smpcall/core";

describe("CpuMask", () => {
  it("sets, tests and clears bits across word boundaries", () => {
    const m = new CpuMask(100);
    m.set(0).set(31).set(32).set(99);
    expect(m.test(31)).toBe(true);
    expect(m.test(33)).toBe(false);
    expect(m.weight()).toBe(4);
    expect(m.testAndClear(32)).toBe(true);
    expect(m.testAndClear(32)).toBe(false);
    expect(m.toArray()).toEqual([0, 31, 99]);
  });

  it("walks with first/next and reports nrCpuIds at the end", () => {
    const m = CpuMask.of(70, [3, 64, 69]);
    expect(m.first()).toBe(3);
    expect(m.next(3)).toBe(64);
    expect(m.next(64)).toBe(69);
    expect(m.next(69)).toBe(70);
    expect(new CpuMask(70).first()).toBe(70);
  });

  it("setAll keeps bits past nrCpuIds clear", () => {
    const m = new CpuMask(33).setAll();
    expect(m.weight()).toBe(33);
    expect(m.next(32)).toBe(33);
  });

  it("and / or / andNot / intersects / subset", () => {
    const a = CpuMask.of(64, [1, 2, 3, 40]);
    const b = CpuMask.of(64, [2, 40, 41]);
    const r = new CpuMask(64);
    expect(r.and(a, b)).toBe(true);
    expect(r.toString()).toBe("2,40");
    r.or(a, b);
    expect(r.toString()).toBe("1-3,40-41");
    expect(r.andNot(a, b)).toBe(true);
    expect(r.toString()).toBe("1,3");
    expect(a.intersects(b)).toBe(true);
    expect(CpuMask.of(64, [2]).isSubsetOf(a)).toBe(true);
    expect(b.isSubsetOf(a)).toBe(false);
    expect(new CpuMask(64).and(CpuMask.of(64, [1]), CpuMask.of(64, [2]))).toBe(false);
  });

  it("parses and prints cpulists", () => {
    expect(CpuMask.parse(16, "0-3,8,10-11").toString()).toBe("0-3,8,10-11");
    expect(() => CpuMask.parse(16, "0-20")).toThrow(/outside 0-15/);
    expect(() => CpuMask.parse(16, "x")).toThrow(/bad cpulist part/);
  });

  it("rejects CPUs outside the mask", () => {
    expect(() => new CpuMask(8).set(8)).toThrow(InvalidArgumentError);
    expect(new CpuMask(8).test(-1)).toBe(false);
  });
});
