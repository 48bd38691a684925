import { describe, expect, it } from "vitest";
import { buildApp } from "../src/app";
import { fetchWorker } from "./support/app";

describe("GET /api/openapi.json", () => {
  it("is an OpenAPI 3.1 document with the shallow and deep health and info operations and the shared Problem schema", async () => {
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
    expect(Object.keys(document.paths["/health"]?.get?.responses ?? {})).toEqual(expect.arrayContaining(["200", "500"]));
    expect(document.paths["/api/admin/health"]?.get?.operationId).toBe("getDeepHealth");
    expect(Object.keys(document.paths["/api/admin/health"]?.get?.responses ?? {})).toEqual(
      expect.arrayContaining(["200", "401", "403", "503", "500"]),
    );
    expect(document.paths["/api/info"]?.get?.operationId).toBe("getInfo");
    expect(document.components.schemas).toHaveProperty("Problem");
  });

  it("documents every route the app mounts under its own operationId, and mounts every documented operation", async () => {
    const response = await fetchWorker("http://banatie.test/api/openapi.json");
    const document = (await response.json()) as { paths: Record<string, Record<string, { operationId?: string }>> };
    const documented = Object.entries(document.paths).flatMap(([template, operations]) =>
      Object.keys(operations).map((method) => `${method.toUpperCase()} ${template.replace(/\{(\w+)\}/g, ":$1")}`),
    );
    // Middleware is mounted for ALL methods; endpoints for one.
    const mounted = buildApp()
      .routes.filter((route) => route.method !== "ALL")
      .map((route) => `${route.method} ${route.path}`);

    expect([...new Set(mounted)].sort()).toEqual([...documented].sort());
    const operationIds = Object.values(document.paths).flatMap((operations) =>
      Object.values(operations).map((operation) => operation.operationId),
    );
    expect(operationIds).not.toContain(undefined);
    expect(new Set(operationIds).size).toBe(operationIds.length);
  });
});
