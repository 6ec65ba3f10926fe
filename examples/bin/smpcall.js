#!/usr/bin/env node
"use strict";
// The `smpcall` binary: runs the compiled CLI (built by `npm ci` / `npm run build` at the repo root).
let cli;
try {
  cli = require("../dist/cli/main.js");
} catch (e) {
  if (e && e.code === "MODULE_NOT_FOUND" && String(e.message).includes("main.js")) {
    process.stderr.write("smpcall: the CLI is not built yet: run `npm run build` at the repository root\n");
    process.exit(2);
  }
  throw e;
}
cli.runCli();
