/// <reference lib="dom" />
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { Browser } from "playwright-core";
import { launchChromium } from "../bench/launch-chromium";
import { main } from "../src/cli/main";
import { memoryIo } from "../src/cli/io";

let browser: Browser;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "smpcall-browser-"));

beforeAll(async () => {
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
});

async function page(file: string) {
  const p = await browser.newPage({ viewport: { width: 1200, height: 700 } });
  await p.goto(`file://${file}`);
  await p.waitForFunction(
    () => (window as unknown as { smpcallTimeline?: { drawn: number } }).smpcallTimeline?.drawn === 1,
  );
  return p;
}

/** Count canvas pixels close to an RGB colour. */
async function pixels(p: Awaited<ReturnType<typeof page>>, rgb: [number, number, number]): Promise<number> {
  return p.evaluate((c) => {
    const cv = document.getElementById("timeline") as HTMLCanvasElement;
    const d = cv.getContext("2d")!.getImageData(0, 0, cv.width, cv.height).data;
    let n = 0;
    for (let i = 0; i < d.length; i += 4)
      if (Math.abs(d[i] - c[0]) < 12 && Math.abs(d[i + 1] - c[1]) < 12 && Math.abs(d[i + 2] - c[2]) < 12) n++;
    return n;
  }, rgb);
}

describe("HTML report in a real browser (headless Chromium)", () => {
  it("draws lanes, callbacks and IPI arrows, and hovering a callback shows its details", async () => {
    const html = path.join(dir, "run.html");
    expect(await main(["run", "--cpus", "8", "--ops", "200", "--html", html], memoryIo())).toBe(0);
    const p = await page(html);
    const state = await p.evaluate(
      () => (window as unknown as { smpcallTimeline: { spans: number; arrows: number } }).smpcallTimeline,
    );
    expect(state.spans).toBeGreaterThan(100);
    expect(state.arrows).toBeGreaterThan(10);
    expect(await pixels(p, [0x2e, 0x9e, 0x5b])).toBeGreaterThan(50); // callbacks
    expect(await pixels(p, [0x4a, 0x7f, 0xd6])).toBeGreaterThan(50); // hard-IRQ handlers
    // Hover the middle of the first callback on CPU 0's lane, located from the page's own data.
    const at = await p.evaluate(() => {
      const data = JSON.parse(document.getElementById("smpcall-data")!.textContent);
      const S = data.timeline.spans;
      const t = (
        window as unknown as { smpcallTimeline: { view: { a: number; b: number }; draw: () => void } }
      ).smpcallTimeline;
      let best = -1;
      for (let i = 0; i < S.lane.length; i++)
        if (S.lane[i] === 0 && S.kind[i] === 2 && (best < 0 || S.start[i] < S.start[best])) best = i;
      t.view.a = S.start[best] - 500;
      t.view.b = S.end[best] + 500;
      t.draw();
      const cv = document.getElementById("timeline") as HTMLCanvasElement;
      const mid = (S.start[best] + S.end[best]) / 2;
      return { x: 70 + ((mid - t.view.a) / (t.view.b - t.view.a)) * (cv.width - 78), y: 18 + 11 };
    });
    const box = (await p.locator("#timeline").boundingBox())!;
    await p.mouse.move(box.x + at.x, box.y + at.y);
    const shown = await p.locator("#tip").innerText();
    expect(shown).toMatch(/CPU \d+: callback\n\S+ \(csd ([0-9a-f]{16}|local)\)\n\d+ \.\. \d+ ns/);
    await p.close();
  }, 60_000);

  it("marks a deadlock: the red stall line, the cycle lanes, and the spin details on hover", async () => {
    const e = memoryIo();
    await main(["explore", "--scenario", "seed-2008", "--policy", "naive", "--json"], e);
    const html = path.join(dir, "deadlock.html");
    expect(
      await main(
        ["replay", "--schedule", JSON.parse(e.stdout).violation.schedule, "--html", html],
        memoryIo(),
      ),
    ).toBe(1);
    const p = await page(html);
    expect(
      await p.evaluate(
        () => (window as unknown as { smpcallTimeline: { deadlock: boolean } }).smpcallTimeline.deadlock,
      ),
    ).toBe(true);
    expect(await pixels(p, [0xc0, 0x39, 0x2b])).toBeGreaterThan(100); // the red marker and cycle
    const box = (await p.locator("#timeline").boundingBox())!;
    await p.mouse.move(box.x + box.width * 0.6, box.y + 18 + 11);
    expect(await p.locator("#tip").innerText()).toMatch(
      /spin\nspins on on-stack csd#\d+ \(call_0_0\) queued on CPU 1 by CPU 0/,
    );
    await p.close();
  }, 60_000);
});
