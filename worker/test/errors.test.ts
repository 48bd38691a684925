import { createRoute, z } from "@hono/zod-openapi";
import { describe, expect, it, vi } from "vitest";
import { MAX_JSON_BODY_BYTES } from "../src/domain/limits";
import { AppError, ERROR_CODES, type ErrorCode, toProblem } from "../src/lib/errors";
import { createApp, createRouter } from "../src/routes/create-app";
import { fetchWorker, readProblem, testEnv } from "./support/app";

describe("problem+json errors", () => {
  it("answers an unknown path with a 404 problem carrying code, requestId and success: false", async () => {
    const response = await fetchWorker("http://banatie.test/api/does-not-exist");
    const problem = await readProblem(response);

    expect(response.status).toBe(404);
    expect(problem).toMatchObject({
      type: "/docs/errors#not-found",
      title: "Not found",
      status: 404,
      code: "NOT_FOUND",
      success: false,
      instance: "/api/does-not-exist",
    });
    expect(problem.detail).toContain("GET /api/does-not-exist");
    expect(problem.requestId).toBe(response.headers.get("x-request-id"));
  });

  it("repeats every code and its detail as error: {code, message}, where Banatie's v1 clients read them", () => {
    for (const code of Object.keys(ERROR_CODES) as ErrorCode[]) {
      const problem = toProblem(new AppError(code, `detail of ${code}`), "req-1", "/api/x");
      expect(problem.error).toEqual({ code, message: `detail of ${code}` });
      expect(problem).toMatchObject({ code, detail: `detail of ${code}` });
    }
  });

  it("sends error: {code, message} in the problems the Worker answers", async () => {
    const unknownPath = await readProblem(await fetchWorker("http://banatie.test/api/does-not-exist"));
    expect(unknownPath.error).toEqual({ code: "NOT_FOUND", message: unknownPath.detail });

    const noKey = await readProblem(await fetchWorker("http://banatie.test/api/me"));
    expect(noKey.error).toEqual({ code: "MISSING_API_KEY", message: noKey.detail });
  });

  it("echoes a caller's X-Request-Id and replaces one that is unsafe to log", async () => {
    const kept = await fetchWorker("http://banatie.test/api/info", { headers: { "X-Request-Id": "client-trace-42" } });
    await kept.body?.cancel();
    expect(kept.headers.get("x-request-id")).toBe("client-trace-42");

    const unsafe = await fetchWorker("http://banatie.test/nope", { headers: { "X-Request-Id": 'a"b; drop' } });
    const problem = await readProblem(unsafe);
    expect(unsafe.headers.get("x-request-id")).not.toBe('a"b; drop');
    expect(problem.requestId).toBe(unsafe.headers.get("x-request-id"));
  });

  it("refuses a JSON body over the limit with 413 before looking at the key", async () => {
    const response = await fetchWorker("http://banatie.test/api/admin/keys", {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-API-Key": "bnt_x" },
      body: JSON.stringify({ name: "x".repeat(MAX_JSON_BODY_BYTES) }),
    });
    const problem = await readProblem(response);
    expect(response.status).toBe(413);
    expect(problem.code).toBe("PAYLOAD_TOO_LARGE");
  });

  describe("from routes", () => {
    const body = z.object({ prompt: z.string().min(1).max(10), count: z.number().int().positive() });
    const route = createRoute({
      method: "post",
      path: "/echo",
      request: { body: { content: { "application/json": { schema: body } }, required: true } },
      responses: { 200: { description: "ok" } },
    });
    const app = createApp();
    app.route(
      "/",
      createRouter()
        .openapi(route, (c) => c.json(c.req.valid("json"), 200))
        .get("/boom", () => {
          throw new Error("connection string postgres://user:secret@db/x refused");
        })
        .get("/teapot", () => {
          throw new AppError("STORAGE_UNAVAILABLE", "Object storage could not be reached");
        }),
    );
    const post = (json: string) =>
      app.request("/echo", { method: "POST", headers: { "content-type": "application/json" }, body: json }, testEnv);

    it("lists every invalid field in a 400 validation problem", async () => {
      const response = await post(JSON.stringify({ prompt: "", count: -1 }));
      const problem = await readProblem(response);

      expect(response.status).toBe(400);
      expect(problem.code).toBe("VALIDATION_ERROR");
      expect(problem.errors?.map((error) => error.field).sort()).toEqual(["count", "prompt"]);
      expect(problem.detail).toContain("prompt");
      expect(problem.detail).toContain("count");
      expect(problem.error).toEqual({ code: "VALIDATION_ERROR", message: problem.detail });
    });

    it("answers malformed JSON with a 400 MALFORMED_JSON problem", async () => {
      const response = await post("{ not json");
      const problem = await readProblem(response);

      expect(response.status).toBe(400);
      expect(problem.code).toBe("MALFORMED_JSON");
    });

    it("hides the details of unexpected errors behind a 500 INTERNAL_ERROR, and keeps credentials out of the log", async () => {
      const log = vi.spyOn(console, "error").mockImplementation(() => {});
      try {
        const response = await app.request("/boom", {}, testEnv);
        const text = await response.clone().text();
        const problem = await readProblem(response);

        expect(response.status).toBe(500);
        expect(problem.code).toBe("INTERNAL_ERROR");
        expect(text).not.toContain("secret");
        expect(text).not.toContain("postgres://");

        const logged = log.mock.calls.map((call) => String(call[0])).join("\n");
        expect(logged).toContain(problem.requestId);
        expect(logged).toContain("refused");
        expect(logged).not.toContain("user:secret");
      } finally {
        log.mockRestore();
      }
    });

    it("renders an AppError with its own status and code", async () => {
      const response = await app.request("/teapot", {}, testEnv);
      const problem = await readProblem(response);

      expect(response.status).toBe(503);
      expect(problem).toMatchObject({ code: "STORAGE_UNAVAILABLE", title: "Object storage unavailable", status: 503 });
      expect(problem.error).toEqual({ code: "STORAGE_UNAVAILABLE", message: "Object storage could not be reached" });
    });
  });
});

describe("database failures", () => {
  it("answer 503 DATABASE_UNAVAILABLE, and the log never quotes the query or its parameters", async () => {
    const { api, deadUrl } = await import("./support/app");
    const { insertKey, withDb } = await import("./support/fixtures");
    const key = await withDb((db) => insertKey(db, { type: "master" }));
    const log = vi.spyOn(console, "error").mockImplementation(() => {});
    try {
      const response = await api("/api/me", { key: key.key, env: { DATABASE_URL: deadUrl(testEnv.DATABASE_URL) } });
      const problem = await readProblem(response);
      expect(response.status).toBe(503);
      expect(problem.code).toBe("DATABASE_UNAVAILABLE");
      const logged = log.mock.calls.map((call) => String(call[0])).join("\n");
      expect(logged).toContain("DATABASE_UNAVAILABLE");
      expect(logged).not.toContain(key.hash);
      expect(logged).not.toMatch(/select|insert/i);
    } finally {
      log.mockRestore();
    }
  });
});
