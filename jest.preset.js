/** Shared jest settings: TypeScript through SWC (legacy decorators + metadata for tsyringe),
 *  sibling packages loaded from source so tests need no build. */
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: "node",
  testMatch: ["<rootDir>/test/**/*.test.ts"],
  setupFiles: ["reflect-metadata"],
  moduleNameMapper: {
    "^@smpcall/([^/]+)$": "<rootDir>/../$1/src",
    "^@smpcall/([^/]+)/(.*)$": "<rootDir>/../$1/src/$2",
  },
  transform: {
    "^.+\\.ts$": [
      "@swc/jest",
      {
        jsc: {
          parser: { syntax: "typescript", decorators: true },
          transform: { legacyDecorator: true, decoratorMetadata: true },
          target: "es2022",
        },
        module: { type: "commonjs" },
        sourceMaps: "inline",
      },
    ],
  },
};
