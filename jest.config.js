/** Root `npm test`: every package is a jest project, run in one process. */
module.exports = {
  projects: [
    "<rootDir>/core",
    "<rootDir>/arch-generic",
    "<rootDir>/arch-x86",
    "<rootDir>/arch-powerpc",
    "<rootDir>/arch-sparc",
    "<rootDir>/examples",
  ],
};
