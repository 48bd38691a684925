import { afterEach, beforeAll, beforeEach, describe, expect, it, type MockInstance, vi } from "vitest";
import type { ApiBody } from "../../site/src/lib/api-contract";
import { buildDeliveryApp } from "../src/delivery-app";
import { displayPrefix, generateApiKey } from "../src/domain/api-key";
import type { RequestLine } from "../src/middleware/request-log";
import { type ApiRequest, api } from "./support/app";
import type { TestKey, TestProject } from "./support/fixtures";
import { freshProjectKey } from "./support/generation";
import { formWith, imageFile, type UploadJson, upload } from "./support/images";

/**
 * Every request leaves exactly one JSON line with what operators search by (route pattern,
 * status, duration, project, key prefix, error code) and nothing a client could be harmed by
 * seeing in a log viewer: no key, no path with ids, no query string with a signature.
 */
let scope: TestProject;
let key: TestKey;
let image: UploadJson;
let logged: string[];
let spy: MockInstance;

beforeAll(async () => {
  ({ scope, key } = await freshProjectKey());
  image = (await upload(key.key, formWith(await imageFile("png", 40, 30), "harbour.png"))).data as UploadJson;
});

beforeEach(() => {
  logged = [];
  spy = vi.spyOn(console, "log").mockImplementation((...args: unknown[]) => {
    logged.push(args.map(String).join(" "));
  });
});

afterEach(() => spy.mockRestore());

/** Sends a request under an id of its own and returns its response and the log lines it left. */
async function logOf(path: string, request: ApiRequest = {}) {
  const requestId = crypto.randomUUID();
  const response = await api(path, { ...request, headers: { ...request.headers, "X-Request-Id": requestId } });
  // Images are read as bytes, so only JSON and problems are kept as text.
  const body = response.headers.get("content-type")?.includes("json") ? await response.text() : "";
  if (!body) await response.body?.cancel();
  const lines = logged.filter((line) => line.includes(requestId));
  expect(lines, `log lines of ${path}`).toHaveLength(1);
  return { response, body, line: JSON.parse(lines[0] as string) as RequestLine, requestId };
}

describe("the request log line", () => {
  it("names the route pattern, status, duration, project and key prefix of an authenticated request, never the key", async () => {
    const { response, body, line, requestId } = await logOf(`/api/images/${image.id}/temporary-url`, {
      key: key.key,
      body: { expiresIn: 600 },
    });
    expect(response.status).toBe(201);
    expect(line).toEqual({
      message: "request",
      requestId,
      method: "POST",
      route: "/api/images/:id/temporary-url",
      status: 201,
      durationMs: expect.any(Number),
      project: scope.project.id,
      keyPrefix: displayPrefix(key.key),
    });
    expect(line.durationMs).toBeGreaterThanOrEqual(0);
    const everything = logged.join("\n");
    expect(everything).not.toContain(key.key);
    expect(everything).not.toContain(key.key.slice(displayPrefix(key.key).length));
    expect(everything).not.toContain(key.hash);
    expect(everything).not.toContain(image.id);

    // The signed URL it issued: its signature and expiry stay out of the log, and so does the storage key.
    const signed = new URL((JSON.parse(body) as ApiBody<"createTemporaryUrl", 201>).data.url);
    const served = await logOf(`${signed.pathname}${signed.search}`);
    expect(served.response.status).toBe(200);
    expect(served.line).toEqual({
      message: "request",
      requestId: served.requestId,
      method: "GET",
      route: "/api/images/:organization/:project/:category/:file",
      status: 200,
      durationMs: expect.any(Number),
    });
    const afterServing = logged.join("\n");
    expect(afterServing).not.toContain(signed.searchParams.get("sig"));
    expect(afterServing).not.toContain(signed.search.slice(1));
    expect(afterServing).not.toContain(signed.pathname);
  });

  it("carries the error code of a refused request, with the prefix of the key that was refused", async () => {
    const stranger = (await generateApiKey("project")).plaintext;
    const unknown = await logOf("/api/images/generated", { key: stranger });
    expect(unknown.response.status).toBe(401);
    expect(unknown.line).toMatchObject({
      route: "/api/images/generated",
      status: 401,
      errorCode: "INVALID_API_KEY",
      keyPrefix: displayPrefix(stranger),
    });
    expect(unknown.line).not.toHaveProperty("project");
    expect(logged.join("\n")).not.toContain(stranger);

    const missing = await logOf("/api/images/generated");
    expect(missing.line).toMatchObject({ route: "/api/images/generated", status: 401, errorCode: "MISSING_API_KEY" });
    expect(missing.line).not.toHaveProperty("keyPrefix");

    const invalid = await logOf("/api/text-to-image", { key: key.key, body: { prompt: "" } });
    expect(invalid.line).toMatchObject({
      method: "POST",
      route: "/api/text-to-image",
      status: 400,
      errorCode: "VALIDATION_ERROR",
    });
  });

  it("has no route for a path no endpoint matches, and never repeats the path", async () => {
    const { line } = await logOf("/api/no-such-thing/secret-looking-segment?token=abc");
    expect(line).toMatchObject({ route: null, status: 404, errorCode: "NOT_FOUND" });
    expect(logged.join("\n")).not.toContain("secret-looking-segment");
    expect(logged.join("\n")).not.toContain("token=abc");
  });

  it("logs the delivery Worker's requests too, an edge-cache hit as one line", async () => {
    const delivery = buildDeliveryApp();
    const path = new URL(image.url).pathname;
    const miss = await logOf(path, { app: delivery });
    expect(miss.response.headers.get("x-cache")).toBe("MISS");
    const hit = await logOf(path, { app: delivery });
    expect(hit.response.headers.get("x-cache")).toBe("HIT");
    for (const { line } of [miss, hit]) {
      expect(line).toMatchObject({ method: "GET", route: "/api/images/:organization/:project/:category/:file", status: 200 });
    }
    expect(logged.join("\n")).not.toContain(path);
  });
});
