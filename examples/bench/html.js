#!/usr/bin/env node
/* global window */
/**
 * `npm run bench:html [-- --cpus N --ops N]`: how a large HTML report behaves in a real browser.
 * Writes the report of a 1024-CPU mixed run, opens it in headless Chromium (as the browser test
 * does: SMPCALL_CHROMIUM, /usr/bin/chromium or the packaged one) and prints JSON: file size, trace records, spans and arrows in the page,
 * load-to-first-draw time, and redraw times (ms) for the interactions a user does: the whole run
 * zoomed out, zooming in step by step, panning, scrolling the lanes. A redraw under ~16 ms keeps
 * 60 frames per second.
 */
"use strict";
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const { launchChromium } = require("./launch-chromium");
const { main } = require("../dist/cli/main");
const { memoryIo } = require("../dist/cli/io");

function arg(name, dflt) {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : dflt;
}

async function run() {
  const cpus = arg("--cpus", "1024");
  const ops = arg("--ops", "8000");
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "smpcall-html-bench-"));
  const file = path.join(dir, "report.html");
  const io = memoryIo();
  const t0 = Date.now();
  const code = await main(
    ["run", "--cpus", cpus, "--ops", ops, "--workload", "mixed", "--html", file, "--json"],
    io,
  );
  if (code !== 0) throw new Error(`smpcall run exited ${code}: ${io.stderr}`);
  const writeMs = Date.now() - t0;
  const browser = await launchChromium();
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    const l0 = Date.now();
    await page.goto(`file://${file}`);
    await page.waitForFunction(() => window.smpcallTimeline?.drawn === 1, undefined, { timeout: 120_000 });
    const loadMs = Date.now() - l0;
    const frames = await page.evaluate(() => {
      const tl = window.smpcallTimeline;
      const time = (fn) => {
        const a = performance.now();
        fn();
        return performance.now() - a;
      };
      const stats = (xs) => {
        const s = [...xs].sort((x, y) => x - y);
        const r = (v) => Math.round(v * 10) / 10;
        return {
          frames: s.length,
          medianMs: r(s[Math.floor(s.length / 2)]),
          p95Ms: r(s[Math.floor(s.length * 0.95)]),
          maxMs: r(s[s.length - 1]),
        };
      };
      const whole = [];
      for (let i = 0; i < 10; i++) whole.push(time(() => tl.draw()));
      const zoomIn = [];
      for (let i = 0; i < 30; i++) zoomIn.push(time(() => tl.zoom(0.8)));
      const pan = [];
      for (let i = 0; i < 30; i++) pan.push(time(() => tl.pan(i % 2 ? 0.2 : -0.2)));
      tl.reset();
      const scroll = [];
      for (let i = 0; i < 30; i++) scroll.push(time(() => tl.scrollLanes(8)));
      return {
        spans: tl.spans,
        arrows: tl.arrows,
        wholeRun: stats(whole),
        zoomIn: stats(zoomIn),
        pan: stats(pan),
        scrollLanes: stats(scroll),
      };
    });
    return {
      cpus: Number(cpus),
      ops: Number(ops),
      fileMB: Math.round((fs.statSync(file).size / 1e6) * 10) / 10,
      writeMs,
      loadToFirstDrawMs: loadMs,
      ...frames,
    };
  } finally {
    await browser.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

run().then(
  (r) => console.log(JSON.stringify(r, null, 2)),
  (e) => {
    console.error(`bench:html: ${e.message}`);
    process.exitCode = 1;
  },
);
