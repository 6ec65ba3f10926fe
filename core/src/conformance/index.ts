/**
 * The conformance kit (`@smpcall/core/conformance`): named checks every backend must pass, a
 * plain runner, and (in `./jest`) a jest adapter.
 */
export * from "./types";
export * from "./random-chooser";
export * from "./checks";
export * from "./runner";
export * from "./guard";
export * from "./probe";
export * from "./nondeterminism";
