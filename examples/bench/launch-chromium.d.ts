import type { Browser } from "playwright-core";

/** Which Chromium `launchChromium` starts, and with which flags. */
export function chromiumLaunchOptions(): Promise<{ executablePath: string; args: string[]; source: string }>;
/** Headless Chromium: `SMPCALL_CHROMIUM`, else `/usr/bin/chromium`, else the packaged one. */
export function launchChromium(): Promise<Browser>;
