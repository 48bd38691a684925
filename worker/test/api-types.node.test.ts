import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { API_TYPES_FILE, apiTypesSource } from "../../dev/api-types/generate.ts";
import { openApiDocument } from "./support/openapi-document";

// The site and the tests type API answers with the generated file: it must say what the document says.
describe("site/src/lib/api-types.ts", () => {
  it("is what `npm run types:api` writes from the current OpenAPI document", async () => {
    const committed = await readFile(API_TYPES_FILE, "utf8");
    expect(committed, "stale: run `npm run types:api` and commit the result").toBe(await apiTypesSource(await openApiDocument()));
  });
});
