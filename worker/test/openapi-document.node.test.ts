import { Validator } from "@seriousme/openapi-schema-validator";
import { describe, expect, it } from "vitest";
import { openApiDocument } from "./support/openapi-document";

// Runs in Node: the validator compiles JSON Schemas with `new Function`, which workerd forbids.
describe("the OpenAPI document", () => {
  it("validates against the OpenAPI 3.1 schema", async () => {
    const result = await new Validator().validate(await openApiDocument());
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
  });
});
