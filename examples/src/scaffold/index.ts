/** `smpcall new-arch`: a new backend package that already passes the conformance kit. */
export { writeScaffold, scaffoldVersions, type ScaffoldResult } from "./generate";
export { scaffoldFiles, type ScaffoldInput } from "./templates";
export { checkArchName, ipiClassName, ARCH_NAME_PATTERN } from "./names";
export { SCAFFOLD_DEV_TOOLS } from "./toolchain";
