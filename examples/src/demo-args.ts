/** The demo's settings for `smpcall run`, each used only when the user did not give that option. */
const DEMO_DEFAULTS: readonly (readonly [string, string])[] = [
  ["--cpus", "8"],
  ["--workload", "mixed"],
];

/** `smpcall run` arguments for `npm start -- ARGS`: the demo's defaults, then ARGS. */
export function demoArgs(userArgs: readonly string[]): string[] {
  const given = (flag: string) => userArgs.some((a) => a === flag || a.startsWith(`${flag}=`));
  const defaults = DEMO_DEFAULTS.filter(([flag]) => !given(flag)).flat();
  return ["run", ...defaults, ...userArgs];
}
