/** The self-contained HTML timeline report. */
export * from "./timeline-model";
export * from "./page";
export * from "./from-chrome";
