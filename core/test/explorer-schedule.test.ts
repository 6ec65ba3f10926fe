import { describe, expect, it } from "@jest/globals";
import { descriptor as generic } from "@smpcall/arch-generic";
import {
  DEFAULT_MAX_STEPS,
  ScheduleFormatError,
  ScheduleMismatch,
  decodeSchedule,
  encodeSchedule,
  explore,
  getPolicy,
  getScenario,
  replay,
  scheduleChecksum,
  type ExploreConfig,
  type ScheduleSpec,
} from "@smpcall/core";

const FULL: ScheduleSpec = {
  scenario: "my scenario",
  scenarioModule: "/home/a b/scen,1.js",
  policy: "poll-own-queue",
  arch: "riscv",
  archModule: "/opt/ports/riscv-sbi.js",
  archOptions: { ipi: "aclint", latencyNs: "5000", cpus: "0-3,5" },
  kernel: "6.1",
  cpus: 5,
  calls: 2,
  seed: 4294967295,
  allocFailRate: 0.25,
  maxSteps: 123456,
  choices: [0, 1, 35, 36, 1295, 2, 0],
};

/** The position a refusal names. */
function refusal(text: string): ScheduleFormatError {
  try {
    decodeSchedule(text);
  } catch (e) {
    expect(e).toBeInstanceOf(ScheduleFormatError);
    return e as ScheduleFormatError;
  }
  throw new Error(`accepted: ${text}`);
}

function cfg(policy: string, cpus: number, calls: number): ExploreConfig {
  return {
    scenario: getScenario("seed-2008"),
    policy: getPolicy(policy),
    arch: generic,
    cpus,
    calls,
    strategy: "dfs",
    runs: 1000,
    maxSteps: DEFAULT_MAX_STEPS,
    seed: 1,
  };
}

describe("schedule strings", () => {
  it("carry every field of a run and decode to the same spec; one shell word", () => {
    const s = encodeSchedule(FULL);
    expect(s).toMatch(/^[A-Za-z0-9._/@+:%,=-]+$/);
    const { choiceOffsets, choicesEnd, ...spec } = decodeSchedule(s);
    expect(spec).toEqual(FULL);
    expect(choiceOffsets).toHaveLength(FULL.choices.length);
    for (const [i, at] of choiceOffsets.entries())
      expect(parseInt(s.slice(at - 1).split(/[.,]/)[0], 36)).toBe(FULL.choices[i]);
    expect(s[choicesEnd - 1]).toBe(",");
    // Defaults stay out of the string.
    const min = encodeSchedule({
      ...FULL,
      scenarioModule: undefined,
      archModule: undefined,
      kernel: undefined,
      archOptions: {},
      allocFailRate: 1,
      maxSteps: DEFAULT_MAX_STEPS,
    });
    expect(min).not.toMatch(/module|kernel|arch-opt|alloc-fail|max-steps/);
  });

  it("every truncation of a schedule is refused, naming a position within what is left", () => {
    const s = encodeSchedule(FULL);
    for (let k = 0; k < s.length; k++) {
      const e = refusal(s.slice(0, k));
      expect(e.position).toBeGreaterThanOrEqual(1);
      expect(e.position).toBeLessThanOrEqual(k + 1);
      expect(e.message).toMatch(new RegExp(`^bad schedule at character ${e.position}: `));
    }
  });

  it("every change of one character of the choices, and any text added after the checksum, is refused", () => {
    const s = encodeSchedule(FULL);
    const d = decodeSchedule(s);
    for (let at = d.choiceOffsets[0] - 1; at < d.choicesEnd - 1; at++)
      for (const c of "0az.!") {
        if (s[at] === c) continue;
        const e = refusal(s.slice(0, at) + c + s.slice(at + 1));
        expect(e.message).toMatch(/corrupt|not a base-36|over-long|truncated/);
      }
    expect(refusal(`${s},n=3`).message).toMatch(/over-long: field "n" after the checksum/);
    expect(refusal(`${s},x`).message).toMatch(/over-long: unexpected text "x" after the checksum/);
    expect(refusal(s.replace("seed=4294967295", "seed=4294967296")).message).toMatch(/corrupt|seed/);
  });

  it("a checksum that matches still cannot hide a bad field", () => {
    const body = encodeSchedule(FULL).split(",sum=")[0].replace("cpus=5", "cpus=five");
    expect(refusal(`${body},sum=${scheduleChecksum(body)}`).message).toMatch(
      /field "cpus" is "five", expected an integer/,
    );
  });
});

describe("an arch-opt field is kept as written, or refused", () => {
  const seal = (body: string) => `${body},sum=${scheduleChecksum(body)}`;
  const base = "smp2,scenario=seed-2008,policy=naive,arch=generic,ARCH,cpus=2,calls=1,seed=1,n=0,choices=";

  it("an option named twice is refused, not replaced by its last value", () => {
    const twice = seal(base.replace("ARCH", "arch-opt=latencyNs%3D1000,arch-opt=latencyNs%3D5"));
    expect(refusal(twice).message).toMatch(/field "arch-opt" names option latencyNs twice/);
  });

  it("an option named __proto__ stays an option (for the backend to refuse), not a prototype", () => {
    const d = decodeSchedule(seal(base.replace("ARCH", "arch-opt=__proto__%3D1")));
    expect(Object.keys(d.archOptions)).toEqual(["__proto__"]);
    expect(d.archOptions["__proto__"]).toBe("1");
  });
});

describe("replay checks the schedule against the run", () => {
  it("too few choices: truncated, naming the first missing choice; too many: over-long", () => {
    const c = cfg("naive", 3, 2);
    const found = explore({ ...c, strategy: "random", runs: 20 }).violation!;
    const d = decodeSchedule(found.schedule);
    expect(replay(c, d.choices).violation?.message).toBe(found.message);
    const cut = d.choices.slice(0, -1);
    expect(() => replay(c, cut)).toThrow(ScheduleMismatch);
    expect(() => replay(c, cut)).toThrow(
      new RegExp(
        `truncated: the run needs choice ${d.choices.length}, but the schedule has only ${cut.length}`,
      ),
    );
    expect(() => replay(c, [...d.choices, 0])).toThrow(
      new RegExp(
        `over-long: the run ended after ${d.choices.length} choice\\(s\\), but the schedule has ${d.choices.length + 1}`,
      ),
    );
  });

  it("allocation failures sampled at --alloc-fail 0.5 and the step limit are part of the replay", () => {
    const c = { ...cfg("naive", 3, 2), allocFailRate: 0.5, maxSteps: 5000 };
    const found = explore({ ...c, strategy: "random", runs: 50 }).violation!;
    const d = decodeSchedule(found.schedule);
    expect(d).toMatchObject({ allocFailRate: 0.5, maxSteps: 5000 });
    expect(
      replay({ ...c, allocFailRate: d.allocFailRate, maxSteps: d.maxSteps }, d.choices).violation?.message,
    ).toBe(found.message);
    // Replayed as if every allocation failed, the same choices are a different run.
    expect(() => {
      const r = replay({ ...c, allocFailRate: 1 }, d.choices);
      if (r.violation?.message === found.message) throw new Error("same run");
    }).toThrow();
  });

  it("the kernel profile is carried in the schedule", () => {
    const c = { ...cfg("naive", 2, 1), kernel: "mainline" as const };
    const found = explore(c).violation!;
    expect(decodeSchedule(found.schedule).kernel).toBe("mainline");
  });
});
