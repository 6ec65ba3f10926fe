/**
 * Root `npm test`: every package is a jest project. Two worker processes even on a 2-core
 * machine (jest's default there is one, which runs every test file inside its own process and
 * ran out of heap at 4 GB with ~650 tests); a worker that grows past 1.5 GB is replaced between
 * test files.
 */
module.exports = {
  maxWorkers: 2,
  workerIdleMemoryLimit: "1536MB",
  projects: [
    "<rootDir>/core",
    "<rootDir>/arch-generic",
    "<rootDir>/arch-x86",
    "<rootDir>/arch-powerpc",
    "<rootDir>/arch-sparc",
    "<rootDir>/examples",
  ],
};
