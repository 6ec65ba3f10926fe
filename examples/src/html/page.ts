import type { RunReport } from "@smpcall/core";
import { CLIENT_SCRIPT } from "./client";
import type { HtmlReportData } from "./timeline-model";

function esc(s: unknown): string {
  return String(s).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!);
}

function summary(r: RunReport | null): string {
  if (!r) return "<p>No run report in this trace (only the timeline).</p>";
  const c = r.counts;
  // A trace saved before these counts existed has no such fields.
  const older: Partial<RunReport["counts"]> = c;
  const opts = Object.entries(r.config.archOptions)
    .map(([k, v]) => `${k}=${v}`)
    .join(" ");
  const rows = (pairs: [string, unknown][]) =>
    pairs.map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(v)}</td></tr>`).join("");
  const cpuRows = r.perCpu
    .slice(0, 256)
    .map(
      (x) =>
        `<tr><td>${x.cpu}</td><td>${x.online ? "yes" : "no"}</td><td>${x.callbacks}</td><td>${x.irqs}</td><td>${x.ipisSent}</td><td>${x.raisesMerged}</td><td>${x.busyNs}</td><td>${x.spinNs}</td></tr>`,
    )
    .join("");
  const lat = r.latencyNs;
  const bar = (label: string, v: number) =>
    `<div class="bar"><span>${label}</span><i style="width:${lat.max ? Math.max(1, (v / lat.max) * 300) : 1}px"></i>${v} ns</div>`;
  return `<h2>Configuration</h2><table>${rows([
    ["arch", `${r.config.arch} ${opts}`],
    ["CPUs", r.config.cpus],
    ["topology", r.config.topology],
    ["seed", r.config.seed],
    ["workload", `${r.config.workload} (${r.config.ops} ops)`],
    [
      "status",
      `${r.outcome.status}${r.problems.length > 0 ? ` with ${r.problems.length} problem(s), listed under Problems` : ""} at ${r.outcome.simTimeNs} ns`,
    ],
  ])}</table>
<h2>Counts</h2><table>${rows([
    ["calls issued", c.callsIssued],
    ["callbacks run", c.callbacksRun],
    ["IPIs requested (call-function targets)", c.ipisSent],
    ["reschedule IPIs requested", older.rescheduleIpis ?? "-"],
    [
      "hardware signals",
      older.hardwareSignals == null
        ? "not counted"
        : `${older.hardwareSignals} (${c.hardwareSignalStatistic})`,
    ],
    ["IPIs saved (queue non-empty)", c.ipisSaved],
    ["idle-poll wakeups", c.idlePollWakeups],
    ["interrupts taken", c.interruptsTaken],
  ])}</table>
<h2>Latency (queue to callback entry)</h2>${bar("p50", lat.p50)}${bar("p99", lat.p99)}${bar("max", lat.max)}
<h2>Arch statistics</h2><table>${rows(Object.entries(r.arch))}</table>
<h2>Warnings (${r.warnings.length})</h2><ul>${r.warnings.map((w) => `<li>CPU ${w.cpu} @ ${w.time} ns: ${esc(w.message)} (x${w.count})</li>`).join("") || "<li>none</li>"}</ul>
<h2>Problems (${r.problems.length})</h2><ul>${r.problems.map((p) => `<li><b>${p.kind}</b> @ ${p.time} ns: <pre>${esc(p.message)}</pre></li>`).join("") || "<li>none</li>"}</ul>
<h2>Per CPU${r.perCpu.length > 256 ? " (first 256)" : ""}</h2><table class="cpus"><tr><th>CPU</th><th>online</th><th>callbacks</th><th>irqs</th><th>IPIs sent</th><th>merged</th><th>busy ns</th><th>spin ns</th></tr>${cpuRows}</table>`;
}

function policyChart(data: HtmlReportData): string {
  const rows = data.policies ?? [];
  if (rows.length === 0) return "";
  const maxSer = Math.max(1, ...rows.map((r) => r.serialisedNs));
  const maxIpi = Math.max(1, ...rows.map((r) => r.ipisPerCall));
  const body = rows
    .map(
      (
        r,
      ) => `<tr><th>${esc(r.policy)}</th><td class="${r.violation ? "bad" : "ok"}">${esc(r.violation ?? (r.complete ? "none: search complete" : "none found"))}</td><td>${r.schedules}</td>
<td><div class="bar"><i style="width:${(r.serialisedNs / maxSer) * 200}px"></i>${r.serialisedNs} ns</div></td><td><div class="bar"><i style="width:${(r.ipisPerCall / maxIpi) * 120}px;background:#803cc8"></i>${r.ipisPerCall}</div></td></tr>`,
    )
    .join("");
  return `<h2>Policy comparison</h2><table><tr><th>policy</th><th>violation</th><th>schedules</th><th>callers serialised</th><th>IPIs per call</th></tr>${body}</table>`;
}

/** One self-contained HTML file: no network, no external scripts or fonts. */
export function renderHtmlReport(data: HtmlReportData): string {
  const json = JSON.stringify(data).replace(/</g, "\\u003c");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(data.title)}</title>
<style>
body{font:13px sans-serif;margin:0;color:#222}header{padding:8px 12px;background:#263238;color:#fff}
#timeline{width:100%;height:60vh;display:block;cursor:grab}#overview{width:100%;height:40px;display:block;border-top:1px solid #ccc;border-bottom:1px solid #ccc}
#tip{position:absolute;display:none;background:#fffbe6;border:1px solid #aaa;padding:4px 6px;white-space:pre;pointer-events:none;font:12px monospace}
main{padding:0 12px}table{border-collapse:collapse;margin:4px 0}th,td{border:1px solid #ddd;padding:2px 6px;text-align:left}
.bar i{display:inline-block;height:10px;background:#2e9e5b;margin:0 6px}.bar span{display:inline-block;width:40px}
.legend span{display:inline-block;margin-right:12px}.legend i{display:inline-block;width:14px;height:10px;margin-right:4px;vertical-align:middle}
pre{margin:2px 0;white-space:pre-wrap}.bad{color:#c0392b}.ok{color:#2e7d32}
</style></head><body>
<header><b>${esc(data.title)}</b> <span id="range"></span></header>
<div class="legend" style="padding:4px 12px"><span><i style="background:rgba(120,120,120,.35)"></i>interrupts off</span><span><i style="background:#4a7fd6"></i>hard-IRQ handler</span><span><i style="background:#2e9e5b"></i>callback</span><span><i style="background:#e08a1e"></i>spin on a CSD</span><span><i style="background:#803cc8"></i>IPI (send to take)</span><span><i style="background:#d35400"></i>IPI saved (queue non-empty)</span><span>wheel/+/-: zoom, drag/arrows: pan, shift+wheel: scroll CPUs, 0: reset; drag on the strip below: pick a range</span></div>
<canvas id="timeline"></canvas><canvas id="overview"></canvas><div id="tip"></div>
<main>${data.violation ? `<h2 class="bad">Violation</h2><pre>${esc(data.violation)}</pre>` : ""}${policyChart(data)}${summary(data.report)}</main>
<script type="application/json" id="smpcall-data">${json}</script>
<script>${CLIENT_SCRIPT}</script>
</body></html>
`;
}
