/** jest config for `npm run mutate` (StrykerJS): core's tests without the long explorer searches
 *  and the conformance kit's broken-backend suite (each runs the whole kit; they would make every
 *  mutant cost minutes). Kernel mutants must be killed by the kernel's own behaviour tests. */
module.exports = {
  ...require("./jest.config.js"),
  testPathIgnorePatterns: ["/node_modules/", "explorer", "conformance"],
};
