import type { Plugin } from "vite";

/**
 * Loads every `.wasm` import as `undefined`. For Node code that reads the Worker's route
 * definitions (the OpenAPI document) but never calls its WASM codecs, which workerd compiles and
 * Node cannot import.
 */
export function wasmPlaceholders(): Plugin {
  return {
    name: "wasm-placeholders",
    enforce: "pre",
    resolveId: (id: string) => (id.endsWith(".wasm") ? "\0wasm-placeholder" : undefined),
    load: (id: string) => (id === "\0wasm-placeholder" ? "export default undefined;" : undefined),
  };
}
