/**
 * `npm run types:api`: writes site/src/lib/api-types.ts from the OpenAPI document, built from the
 * Worker's routes in this process (no server). Run it after changing a route's schemas.
 */
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { runnerImport } from "vite";
import { API_TYPES_FILE, apiTypesSource } from "./api-types/generate.ts";
import { wasmPlaceholders } from "./wasm-placeholders.ts";

// The Worker's modules import each other without extensions, as bundlers resolve them: load them through Vite.
const { module } = await runnerImport<{ openApiDocument(): Promise<Record<string, unknown>> }>(
  path.resolve(import.meta.dirname, "../worker/test/support/openapi-document.ts"),
  { configFile: false, logLevel: "warn", plugins: [wasmPlaceholders()] },
);
await writeFile(API_TYPES_FILE, await apiTypesSource(await module.openApiDocument()));
console.log(`Wrote ${path.relative(process.cwd(), API_TYPES_FILE)}`);
