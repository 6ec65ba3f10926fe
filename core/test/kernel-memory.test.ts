import { describe, expect, it } from "@jest/globals";
import { descriptor as generic } from "@smpcall/arch-generic";
import { descriptor as x86 } from "@smpcall/arch-x86";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  InvalidArgumentError,
  KERNEL_BARRIERS,
  WORKLOADS,
  createSmpSystem,
  decodeSchedule,
  encodeSchedule,
  explore,
  getPolicy,
  getScenario,
  machineBarrierNames,
  parseArchOptions,
  replay,
  runWorkload,
  type ExploreConfig,
  type MemoryModelName,
  type Scenario,
} from "@smpcall/core";

/** One row of docs/memory-model.md's barrier table: where dropping the barrier shows (or not). */
interface Row {
  /** Barriers dropped (the row's barrier, sometimes with one that hides it). */
  drop: string[];
  scenario: string;
  memory: MemoryModelName;
  cpus?: number;
  idle?: "halt" | "mwait" | "poll";
  x2apic?: boolean;
  preemptionBound?: number;
  /** The violation kind the explorer must find, or null: the scenario stays clean. */
  finds: string | null;
}

const ROWS: Row[] = [
  { drop: ["csd_unlock:release"], scenario: "mem-sync-result", memory: "lkmm", finds: "invariant" },
  { drop: ["csd_lock_wait:acquire"], scenario: "mem-sync-result", memory: "lkmm", finds: "invariant" },
  { drop: ["csd_unlock:release"], scenario: "mem-sync-result", memory: "tso", finds: null },
  { drop: ["csd_lock_wait:acquire"], scenario: "mem-sync-result", memory: "tso", finds: null },
  {
    drop: ["llist_del_all:fully-ordered"],
    scenario: "mem-sync-result",
    memory: "lkmm",
    finds: "stale-read",
  },
  {
    drop: ["llist_del_all:fully-ordered"],
    scenario: "mem-shared-target",
    memory: "tso",
    cpus: 3,
    preemptionBound: 1,
    finds: "lost-call",
  },
  {
    drop: ["llist_add:fully-ordered"],
    scenario: "mem-shared-target",
    memory: "lkmm",
    cpus: 3,
    preemptionBound: 1,
    finds: "stale-read",
  },
  {
    drop: ["do_idle:smp_mb__after_atomic"],
    scenario: "mem-idle-wakeup",
    memory: "lkmm",
    idle: "poll",
    finds: "lost-call",
  },
  {
    drop: ["do_idle:smp_mb__after_atomic"],
    scenario: "mem-idle-wakeup",
    memory: "tso",
    idle: "poll",
    finds: null,
  },
  {
    drop: ["current_clr_polling_and_test:smp_mb__after_atomic"],
    scenario: "mem-idle-wakeup",
    memory: "lkmm",
    finds: null,
  },
  {
    drop: ["set_nr_if_polling:fully-ordered"],
    scenario: "mem-idle-wakeup",
    memory: "lkmm",
    idle: "poll",
    finds: null,
  },
  {
    drop: ["csd_lock:smp_wmb"],
    scenario: "mem-shared-target",
    memory: "lkmm",
    cpus: 3,
    preemptionBound: 1,
    finds: null,
  },
  {
    drop: ["smp_call_function_single_async:smp_wmb"],
    scenario: "mem-async-csd",
    memory: "lkmm",
    cpus: 3,
    preemptionBound: 1,
    finds: null,
  },
  {
    drop: ["llist_add:fully-ordered"],
    scenario: "mem-async-csd",
    memory: "lkmm",
    cpus: 3,
    preemptionBound: 1,
    finds: null,
  },
  {
    drop: ["llist_add:fully-ordered", "smp_call_function_single_async:smp_wmb"],
    scenario: "mem-async-csd",
    memory: "lkmm",
    cpus: 3,
    preemptionBound: 1,
    finds: "stale-read",
  },
  {
    drop: ["x2apic:weak_wrmsr_fence"],
    scenario: "mem-idle-wakeup",
    memory: "tso",
    x2apic: true,
    finds: null,
  },
  {
    drop: ["llist_add:fully-ordered"],
    scenario: "mem-idle-wakeup",
    memory: "tso",
    x2apic: true,
    finds: null,
  },
  {
    drop: ["llist_add:fully-ordered", "x2apic:weak_wrmsr_fence"],
    scenario: "mem-idle-wakeup",
    memory: "tso",
    x2apic: true,
    finds: "lost-call",
  },
];

/**
 * The "schedules to it" cell of docs/memory-model.md's barrier table for `row`: the table row is
 * the one naming the last barrier `row` drops (a pair's second barrier is the row's own), and the
 * figure is the number after the row's model name in the cell (`35; tso 28`), else the cell's
 * first number.
 */
function documentedSchedules(row: Row): number {
  const doc = readFileSync(join(__dirname, "../../docs/memory-model.md"), "utf8").split("\n");
  const header = doc.findIndex((l) => l.startsWith("| barrier (where in 6.1) |"));
  const column = doc[header].split("|").findIndex((c) => c.trim() === "schedules to it");
  const barrier = row.drop[row.drop.length - 1];
  const line = doc.slice(header + 2).find((l) => l.startsWith(`| \`${barrier}\``));
  if (line === undefined) throw new Error(`docs/memory-model.md: no barrier table row for ${barrier}`);
  const cell = line.split("|")[column];
  const n = new RegExp(`${row.memory}:? (\\d+)`).exec(cell) ?? /(\d+)/.exec(cell);
  if (n === null) throw new Error(`docs/memory-model.md: no schedule count for ${barrier} in "${cell}"`);
  return Number(n[1]);
}

function config(row: Row, drop: string[]): ExploreConfig {
  return {
    scenario: getScenario(row.scenario),
    policy: getPolicy("modern"),
    arch: row.x2apic ? x86 : generic,
    archOptions: row.x2apic ? { apic: "x2apic-phys" } : undefined,
    idle: row.idle ?? "halt",
    memory: row.memory,
    dropBarriers: drop,
    cpus: row.cpus ?? 2,
    calls: 1,
    strategy: "dfs",
    runs: 100_000,
    maxSteps: 20_000,
    seed: 1,
    preemptionBound: row.preemptionBound ?? Number.POSITIVE_INFINITY,
  };
}

describe("the kernel model under weak memory: which barrier prevents which bug", () => {
  for (const row of ROWS) {
    const what = row.finds ?? "no violation";
    it(`${row.memory}, ${row.scenario}${row.idle ? ` --idle ${row.idle}` : ""}, dropping ${row.drop.join(" + ")}: ${what}`, () => {
      const dropped = explore(config(row, row.drop));
      if (row.finds === null) {
        expect(dropped.violation).toBeNull();
        expect(dropped.complete).toBe(true);
        return;
      }
      expect(dropped.violation?.kind).toBe(row.finds);
      // Found on the schedule the docs' table says.
      expect(dropped.violation?.scheduleNumber).toBe(documentedSchedules(row));
      // The schedule carries the model and the dropped barriers and replays the same violation.
      const s = decodeSchedule(dropped.violation!.schedule);
      expect(s.memory).toBe(row.memory);
      expect(s.dropBarriers).toEqual(row.drop);
      const again = replay(config(row, s.dropBarriers ?? []), s.choices);
      expect(again.violation?.kind).toBe(row.finds);
      expect(again.violation?.message).toBe(dropped.violation!.message);
      // With every barrier in place the same scenario is clean, exhaustively.
      const all = explore(config(row, []));
      expect(all.violation).toBeNull();
      expect(all.complete).toBe(true);
    });
  }

  it("every barrier of the model has a row (the docs table covers them all)", () => {
    const covered = new Set(ROWS.flatMap((r) => r.drop));
    for (const b of KERNEL_BARRIERS) expect(covered).toContain(b.name);
    expect(covered).toContain("x2apic:weak_wrmsr_fence");
  });
});

describe("--memory and --drop-barrier plumbing", () => {
  it("sc is the default and allocates nothing per csd", () => {
    const r = runWorkload({ cpus: 8, seed: 3, arch: generic, workload: "mixed", ops: 50 });
    expect(r.system.kernel.memory.weak).toBe(false);
    expect(r.system.kernel.memory.memory.stateKey()).toBe("");
  });

  it("a weak model gives the same calls and callbacks on a run without races that matter", () => {
    for (const memory of ["tso", "lkmm"] as const) {
      const r = runWorkload({ cpus: 4, seed: 5, arch: generic, workload: "mixed", ops: 30, memory });
      expect(r.outcome.problems).toEqual([]);
      expect(r.system.kernel.memory.weak).toBe(true);
      expect(r.system.kernel.stats.callbacksRun).toBeGreaterThan(0);
    }
  });

  it("every workload runs clean under tso and lkmm: irq_work and remote wake-ups too", () => {
    // An irq_work's claim is a fully ordered RMW of its flags, and a task's wake entry keeps the
    // type written when the task was made: neither may be reported as a stale flags read (both
    // were, once per entry, before the kernel's memory layer knew them).
    for (const w of WORKLOADS)
      for (const memory of ["tso", "lkmm"] as const) {
        const r = runWorkload({ cpus: 4, seed: 5, arch: generic, workload: w.name, ops: 40, memory });
        expect([w.name, memory, r.outcome.status, r.outcome.problems.map((p) => p.message)]).toEqual([
          w.name,
          memory,
          "completed",
          [],
        ]);
      }
    const r = runWorkload({
      cpus: 4,
      seed: 5,
      arch: generic,
      workload: "sched-wakeups",
      ops: 40,
      memory: "lkmm",
    });
    expect(r.system.kernel.stats.irqWorkRun).toBeGreaterThan(0);
    expect(r.system.kernel.stats.ttwuActivated).toBeGreaterThan(0);
  });

  it("tso: an irq_work and a caller-owned csd queued again as soon as they ran: each run once per accepted queueing, nothing stale", () => {
    // The target's unlock may sit in its store buffer: irq_work_single's smp_mb makes it visible
    // before the work's func runs, and the async csd's -EBUSY test reads the bit as the caller sees it.
    for (let seed = 0; seed < 30; seed++) {
      const sys = createSmpSystem({ cpus: 3, seed, arch: generic, memory: "tso" });
      const k = sys.kernel;
      let workRuns = 0;
      let csdRuns = 0;
      let queued = 0;
      let accepted = 0;
      const work = k.initIrqWork(() => void workRuns++);
      const csd = k.initCsd(() => void csdRuns++);
      sys.spawn(
        1,
        (function* () {
          for (let i = 0; i < 20; i++) {
            if (yield* k.irqWorkQueueOn(work, 0)) queued++;
            if ((yield* k.smpCallFunctionSingleAsync(2, csd)) === 0) accepted++;
            yield 300 + ((seed * 7 + i * 13) % 900);
          }
        })(),
      );
      const out = sys.run();
      expect([seed, out.status, out.problems.map((p) => p.message)]).toEqual([seed, "completed", []]);
      expect([seed, workRuns, csdRuns]).toEqual([seed, queued, accepted]);
      expect([queued > 3, accepted > 3]).toEqual([true, true]);
    }
  });

  it("refuses an unknown barrier with the list", () => {
    expect(() =>
      createSmpSystem({ cpus: 2, arch: generic, memory: "lkmm", dropBarriers: ["smp_mb"] }),
    ).toThrow(InvalidArgumentError);
    expect(() => createSmpSystem({ cpus: 2, arch: generic, dropBarriers: ["nope"] })).toThrow(
      /unknown barrier "nope": this machine's barriers are csd_lock_wait:acquire, /,
    );
    expect(() => createSmpSystem({ cpus: 2, arch: generic, memory: "arm" as never })).toThrow(/memory/);
  });

  it("x2APIC backends declare their send fence; xAPIC and generic do not", () => {
    const names = (apic: string, cpus: number) =>
      machineBarrierNames(x86, parseArchOptions("x86", x86.options, { apic }), cpus);
    expect(names("x2apic-phys", 2)).toContain("x2apic:weak_wrmsr_fence");
    expect(names("auto", 16)).toContain("x2apic:weak_wrmsr_fence");
    expect(names("auto", 8)).not.toContain("x2apic:weak_wrmsr_fence");
    expect(machineBarrierNames(generic, {}, 2)).toEqual(KERNEL_BARRIERS.map((b) => b.name));
  });

  it("schedules carry a weak model and dropped barriers; old strings decode as sc", () => {
    const spec = {
      scenario: "mem-idle-wakeup",
      policy: "modern",
      arch: "generic",
      archOptions: {},
      idle: "poll",
      memory: "lkmm",
      dropBarriers: ["do_idle:smp_mb__after_atomic", "csd_unlock:release"],
      cpus: 2,
      calls: 1,
      seed: 1,
      allocFailRate: 1,
      maxSteps: 20_000,
      choices: [0, 1],
    };
    const text = encodeSchedule(spec);
    expect(text).toContain(
      ",memory=lkmm,drop-barrier=do_idle:smp_mb__after_atomic,drop-barrier=csd_unlock:release,",
    );
    const back = decodeSchedule(text);
    expect(back.memory).toBe("lkmm");
    expect(back.dropBarriers).toEqual(spec.dropBarriers);
    const old = decodeSchedule(encodeSchedule({ ...spec, memory: undefined, dropBarriers: undefined }));
    expect(old.memory).toBeUndefined();
    expect(old.dropBarriers).toBeUndefined();
    expect(encodeSchedule({ ...spec, memory: "sc", dropBarriers: [] })).not.toContain("memory=");
  });
});

describe("explore --barriers: each barrier says where 6.1 has it and what it orders", () => {
  /** The 6.1 files the model's barriers live in (each function checked against linux-source-6.1). */
  const SOURCE_FILES = [
    "kernel/smp.c",
    "lib/llist.c",
    "include/linux/llist.h",
    "kernel/sched/core.c",
    "include/linux/sched/idle.h",
    "kernel/sched/idle.c",
  ];
  const docs = readFileSync(join(__dirname, "../../docs/memory-model.md"), "utf8");

  for (const b of KERNEL_BARRIERS) {
    const fn = b.name.slice(0, b.name.indexOf(":"));
    it(`${b.name}: names its file and function, says what it orders, and has a row in docs/memory-model.md`, () => {
      const [file, func] = b.where.split(" ");
      expect(SOURCE_FILES).toContain(file);
      // The barrier's name starts with the function that has it (llist_add: llist_add_batch).
      expect(func.startsWith(fn)).toBe(true);
      // What it orders: a phrase of several words, not a placeholder.
      expect(b.orders.split(" ").length).toBeGreaterThanOrEqual(5);
      expect(docs).toContain(`| \`${b.name}\``);
    });
  }

  it("the names are distinct and each kind of barrier appears", () => {
    const names = KERNEL_BARRIERS.map((b) => b.name);
    expect(new Set(names).size).toBe(names.length);
    const kinds = new Set(names.map((n) => n.slice(n.indexOf(":") + 1)));
    expect([...kinds].sort()).toEqual([
      "acquire",
      "fully-ordered",
      "release",
      "smp_mb__after_atomic",
      "smp_wmb",
    ]);
  });
});

describe("scenario data through the kernel's memory layer: store buffering (SB) on two CPUs", () => {
  /**
   * CPU 0 stores x then loads y; CPU 1 stores y then loads x; each keeps what it read in scenario
   * data (`r0`, `r1`), so the explorer's state key holds it (a closure would not be in the key, and
   * the hashed search would merge runs that differ only there); every completed run adds "r0r1".
   */
  function storeBuffering(outcomes: Set<string>): Scenario {
    return {
      name: "sb-scenario-data",
      description: "store buffering through kernel.memory.store/load",
      defaultCpus: 2,
      minCpus: 2,
      maxCpus: 2,
      setup(ctx) {
        const mem = ctx.system.kernel.memory;
        for (const cpu of [0, 1]) {
          const mine = cpu === 0 ? "x" : "y";
          const theirs = cpu === 0 ? "y" : "x";
          ctx.system.machine.spawn(
            cpu,
            (function* () {
              mem.store(mine, 1);
              yield 1;
              mem.store(`r${cpu}`, mem.load(theirs));
              // Ending the program enters the idle loop, whose locked set_bit drains this CPU's
              // buffer: one more step keeps both loads before either drain.
              yield 1;
            })(),
          );
        }
      },
      invariants: [
        (ctx) => {
          const mem = ctx.system.kernel.memory;
          const r = (cpu: number) => mem.memory.finalValue(mem.data(`r${cpu}`, -1));
          outcomes.add(`${r(0)}${r(1)}`);
          return null;
        },
      ],
    };
  }

  function outcomesUnder(memory: MemoryModelName): string[] {
    const outcomes = new Set<string>();
    const result = explore({
      scenario: storeBuffering(outcomes),
      policy: getPolicy("modern"),
      arch: generic,
      memory,
      cpus: 2,
      calls: 1,
      strategy: "dfs",
      runs: 10_000,
      maxSteps: 2_000,
      seed: 1,
      preemptionBound: Number.POSITIVE_INFINITY,
    });
    expect(result.violation).toBeNull();
    expect(result.complete).toBe(true);
    return [...outcomes].sort();
  }

  it("sc: never both 0 (one store is first and the other CPU's later load sees it)", () => {
    expect(outcomesUnder("sc")).toEqual(["01", "10", "11"]);
  });

  it("tso: both 0 as well (each store still in its CPU's buffer), and every other outcome (buffers drain before a load)", () => {
    expect(outcomesUnder("tso")).toEqual(["00", "01", "10", "11"]);
  });

  it("lkmm: all four", () => {
    expect(outcomesUnder("lkmm")).toEqual(["00", "01", "10", "11"]);
  });
});
