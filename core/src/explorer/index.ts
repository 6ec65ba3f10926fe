/** The schedule explorer, the 2008 call-data policies and their scenarios. */
export * from "./ledger";
export * from "./rcu";
export * from "./kernel-2008";
export * from "./policies";
export * from "./scenario";
export * from "./memory-scenarios";
export * from "./choosers";
export * from "./explorer";
export * from "./dfs";
export * from "./shards";
export * from "./state-key";
export * from "./frame-tracker";
export * from "./graph-snapshot";
export * from "./symmetry";
export * from "./schedule";
export * from "./exact-replay";
