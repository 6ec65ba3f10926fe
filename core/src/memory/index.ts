/** The shared-memory layer: memory models, barriers and the litmus suite. */
export * from "./model";
export { ScMemory } from "./sc-memory";
export { TsoMemory } from "./tso-memory";
export { LkmmMemory } from "./lkmm-memory";
export { createSharedMemory } from "./create";
export * from "./litmus";
