/**
 * Launches headless Chromium for the HTML report's browser test and `npm run bench:html`.
 * Which browser: the one `SMPCALL_CHROMIUM` names; else Debian's `/usr/bin/chromium` when it
 * exists; else the Chromium that the `@sparticuz/chromium` npm package ships (unpacked to the
 * temp folder on first use), so a machine with nothing but Node runs the test.
 */
"use strict";
const fs = require("node:fs");
const { chromium } = require("playwright-core");

const SYSTEM_CHROMIUM = "/usr/bin/chromium";

/** Flags for a system Chromium on a closed network, run as root (no sandbox). */
const SYSTEM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** @returns {Promise<{ executablePath: string, args: string[], source: string }>} */
async function chromiumLaunchOptions() {
  const named = process.env.SMPCALL_CHROMIUM;
  if (named) {
    if (!fs.existsSync(named)) {
      throw new Error(
        `SMPCALL_CHROMIUM names ${named}, which does not exist; unset it to use the packaged Chromium`,
      );
    }
    return { executablePath: named, args: SYSTEM_ARGS, source: "SMPCALL_CHROMIUM" };
  }
  if (fs.existsSync(SYSTEM_CHROMIUM)) {
    return { executablePath: SYSTEM_CHROMIUM, args: SYSTEM_ARGS, source: "system" };
  }
  const mod = require("@sparticuz/chromium");
  const packaged = mod.default ?? mod;
  return {
    executablePath: await packaged.executablePath(),
    // The package's own flags are made for one page per process (--single-process); a browser
    // that opens several pages, as the test does, loses them, so it gets the system flags.
    args: [...SYSTEM_ARGS, "--no-zygote"],
    source: "@sparticuz/chromium",
  };
}

/** @returns {Promise<import("playwright-core").Browser>} */
async function launchChromium() {
  const { executablePath, args } = await chromiumLaunchOptions();
  return chromium.launch({ executablePath, args, headless: true });
}

module.exports = { chromiumLaunchOptions, launchChromium };
