import { describe, expect, it } from "vitest";
import { fetchWorker } from "./support/app";

describe("GET /api/openapi.json", () => {
  it("is an OpenAPI 3.1 document covering every route, with the shared Problem schema", async () => {
    const response = await fetchWorker("http://banatie.test/api/openapi.json");
    const document = (await response.json()) as {
      openapi: string;
      info: { title: string; version: string };
      paths: Record<string, Record<string, { operationId?: string; responses: Record<string, unknown> }>>;
      components: { schemas: Record<string, unknown> };
    };

    expect(response.status).toBe(200);
    expect(document.openapi).toBe("3.1.0");
    expect(document.info.title).toBe("Banatie API");
    expect(document.paths["/health"]?.get?.operationId).toBe("getHealth");
    expect(Object.keys(document.paths["/health"]?.get?.responses ?? {})).toEqual(expect.arrayContaining(["200", "503", "500"]));
    expect(document.paths["/api/info"]?.get?.operationId).toBe("getInfo");
    expect(document.components.schemas).toHaveProperty("Problem");
  });
});
