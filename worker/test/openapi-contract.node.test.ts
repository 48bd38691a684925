import { describe, expect, it } from "vitest";
import { type ObservedResponse, type OpenApiDocument, openApiContract } from "./support/openapi-contract";
import { openApiDocument } from "./support/openapi-document";

const problem = {
  type: "/docs/errors#not-found",
  title: "Not found",
  status: 404,
  detail: "No key has this id",
  code: "API_KEY_NOT_FOUND",
  requestId: "req-1",
  success: false,
  error: { code: "API_KEY_NOT_FOUND", message: "No key has this id" },
};

function observed(response: Partial<ObservedResponse> & { json?: unknown }): ObservedResponse {
  const text = response.json === undefined ? "" : JSON.stringify(response.json);
  return {
    method: "GET",
    path: "/health",
    status: 200,
    contentType: "application/json",
    body: async () => text,
    ...response,
  };
}

describe("checking responses against the OpenAPI document", async () => {
  const contract = await openApiContract((await openApiDocument()) as unknown as OpenApiDocument);

  it("accepts a response its operation documents, body included", async () => {
    const response = observed({
      method: "DELETE",
      path: "/api/admin/keys/2f1c9a52-6a43-4d3e-9b1e-0c4c1b7e2a10",
      status: 404,
      contentType: "application/problem+json",
      json: problem,
    });
    expect(await contract.check(response)).toBeUndefined();
  });

  it("names the operation and the status when the status is not documented", async () => {
    const why = await contract.check(observed({ method: "GET", path: "/api/info", status: 404, json: problem }));
    expect(why).toContain("GET /api/info (getInfo, get /api/info) answered 404, which the document does not list");
  });

  it("refuses a content type the operation does not document for that status", async () => {
    const why = await contract.check(
      observed({ method: "DELETE", path: "/api/admin/keys/2f1c9a52-6a43-4d3e-9b1e-0c4c1b7e2a10", status: 404, json: problem }),
    );
    expect(why).toContain("answered 404 as application/json, which the document does not list for it");
  });

  it("quotes the schema error when the body breaks the schema, through $ref to components", async () => {
    const why = await contract.check(
      observed({
        method: "DELETE",
        path: "/api/admin/keys/2f1c9a52-6a43-4d3e-9b1e-0c4c1b7e2a10",
        status: 404,
        contentType: "application/problem+json",
        json: { ...problem, code: "NO_SUCH_CODE" },
      }),
    );
    expect(why).toContain("revokeApiKey");
    expect(why).toContain("#/code");
  });

  it("prefers the literal path over a template: /api/images/generated is the listing, not an image id", async () => {
    const why = await contract.check(
      observed({
        method: "GET",
        path: "/api/images/generated",
        status: 409,
        contentType: "application/problem+json",
        json: problem,
      }),
    );
    expect(why).toContain("listGeneratedImages");
  });

  it("lets an undeclared path answer only the app's 404 problem", async () => {
    const notFound = observed({ path: "/api/nothing-here", status: 404, contentType: "application/problem+json", json: problem });
    expect(await contract.check(notFound)).toBeUndefined();
    const ok = await contract.check(observed({ path: "/api/nothing-here", status: 200, json: { success: true } }));
    expect(ok).toContain("no operation in the document has this path and method");
  });

  it("checks HEAD against the GET operation, without a body", async () => {
    const head = observed({ method: "HEAD", path: "/health", status: 200 });
    expect(await contract.check(head)).toBeUndefined();
    expect(await contract.check({ ...head, status: 418 })).toContain("answered 418");
  });
});
