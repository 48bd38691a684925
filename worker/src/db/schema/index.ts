export * from "./api-keys";
export * from "./audit-events";
export * from "./generations";
export * from "./images";
export * from "./organizations";
export * from "./projects";
export * from "./prompt-cache";
export * from "./rate-limit-windows";
