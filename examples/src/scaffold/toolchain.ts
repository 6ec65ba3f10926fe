/**
 * The tool versions a scaffolded backend package pins: the ones this repository builds and
 * tests with (a test keeps them equal to the root package.json).
 */
export const SCAFFOLD_DEV_TOOLS: Readonly<Record<string, string>> = {
  "@jest/globals": "30.5.2",
  "@swc/core": "1.16.22",
  "@swc/jest": "0.2.39",
  jest: "30.5.2",
  typescript: "6.0.3",
};
