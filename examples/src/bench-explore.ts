/**
 * `npm run bench:explore`: the exhaustive explorer on poll-own-queue (seed-2008) at the
 * configurations of the SPIN comparison (3x2, 4x1, 4x2, 5x1, no preemption bound). Each
 * configuration runs `smpcall explore ... --json` in a process of its own and prints one JSON
 * line: schedules, distinct states, complete, wall and CPU seconds, peak resident MB.
 *
 *   node examples/dist/bench-explore.js [--quick] [--only 3x2,4x1] [--timeout S] [-- explore flags...]
 *
 * `--quick`: 3x2 and 4x1 only. Flags after `--` go to every explore (e.g. `--no-symmetry`,
 * `--workers 2`, `--preemption-bound 2`, `--policy global-lock`).
 */
import { spawnSync } from "node:child_process";
import { main } from "./cli/main";
import { memoryIo } from "./cli/io";

/** The configurations, CPUs x calls each. */
const CONFIGS = ["3x2", "4x1", "4x2", "5x1"] as const;
const QUICK = ["3x2", "4x1"];

/** One configuration's measurement (a JSON line). */
interface BenchLine {
  config: string;
  policy: string;
  flags: string[];
  schedules: number | null;
  distinctStates: number | null;
  complete: boolean;
  violation: string | null;
  wallS: number;
  cpuS: number | null;
  peakMb: number | null;
  error?: string;
}

/** A line for `config` with only its wall time (seconds) known: the search's figures are filled in when it ends. */
function unmeasured(config: string, policy: string, flags: string[], wallS: number): BenchLine {
  return {
    config,
    policy,
    flags,
    schedules: null,
    distinctStates: null,
    complete: false,
    violation: null,
    wallS: Math.round(wallS * 10) / 10,
    cpuS: null,
    peakMb: null,
  };
}

/** Child mode: run one explore in this process and print the measurement to stdout. */
async function child(config: string, policy: string, flags: string[]): Promise<void> {
  const [cpus, calls] = config.split("x");
  const io = memoryIo(process.env, process.cwd());
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const code = await main(
    [
      "explore",
      "--scenario",
      "seed-2008",
      "--policy",
      policy,
      "--cpus",
      cpus,
      "--calls",
      calls,
      "--preemption-bound",
      "none",
      ...flags,
      "--json",
    ],
    io,
  );
  const wallS = (performance.now() - t0) / 1000;
  const cu = process.cpuUsage(c0);
  const line: BenchLine = {
    ...unmeasured(config, policy, flags, wallS),
    cpuS: Math.round((cu.user + cu.system) / 1e5) / 10,
    peakMb: Math.round(process.resourceUsage().maxRSS / 1024),
  };
  if (code > 1) line.error = io.stderr.trim().slice(0, 500);
  else {
    const r = JSON.parse(io.stdout) as {
      schedules: number;
      distinctStates: number | null;
      complete: boolean;
      violation: { kind: string } | null;
    };
    line.schedules = r.schedules;
    line.distinctStates = r.distinctStates;
    line.complete = r.complete;
    line.violation = r.violation?.kind ?? null;
  }
  process.stdout.write(JSON.stringify(line) + "\n");
}

function usage(msg: string): never {
  process.stderr.write(
    `bench-explore: ${msg}\nusage: bench-explore [--quick] [--only 3x2,4x1,...] [--policy P] [--timeout S] [-- explore flags]\n`,
  );
  process.exit(2);
}

async function run(argv: string[]): Promise<void> {
  const dash = argv.indexOf("--");
  const own = dash < 0 ? argv : argv.slice(0, dash);
  const flags = dash < 0 ? [] : argv.slice(dash + 1);
  let configs: string[] = [...CONFIGS];
  let policy = "poll-own-queue";
  let timeoutS = 900;
  let childConfig: string | null = null;
  for (let i = 0; i < own.length; i++) {
    const a = own[i];
    if (a === "--quick") configs = QUICK;
    else if (a === "--only") configs = (own[++i] ?? usage("--only needs a list")).split(",");
    else if (a === "--policy") policy = own[++i] ?? usage("--policy needs a name");
    else if (a === "--timeout") timeoutS = Number(own[++i] ?? usage("--timeout needs seconds"));
    else if (a === "--child") childConfig = own[++i] ?? usage("--child needs a configuration");
    else usage(`unknown option ${a}`);
  }
  for (const c of configs) if (!/^\d+x\d+$/.test(c)) usage(`bad configuration "${c}": expected CPUsxCALLS`);
  if (!(timeoutS > 0)) usage("--timeout must be a positive number of seconds");
  if (childConfig !== null) return child(childConfig, policy, flags);
  for (const config of configs) {
    const t0 = performance.now();
    const r = spawnSync(
      process.execPath,
      [...process.execArgv, __filename, "--child", config, "--policy", policy, "--", ...flags],
      { encoding: "utf8", timeout: timeoutS * 1000, maxBuffer: 1 << 24 },
    );
    const out = r.stdout.trim().split("\n").pop() ?? "";
    if (r.status === 0 && out.startsWith("{")) {
      process.stdout.write(out + "\n");
      continue;
    }
    const line: BenchLine = {
      ...unmeasured(config, policy, flags, (performance.now() - t0) / 1000),
      error:
        r.signal !== null
          ? `stopped after the ${timeoutS} s timeout (${r.signal})`
          : `exit ${String(r.status)}: ${r.stderr.trim().slice(-400)}`,
    };
    process.stdout.write(JSON.stringify(line) + "\n");
  }
}

void run(process.argv.slice(2));
