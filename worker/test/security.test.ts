import { createRoute } from "@hono/zod-openapi";
import { beforeAll, describe, expect, it } from "vitest";
import { buildApp } from "../src/app";
import { generations, webhookDeliveries } from "../src/db/schema";
import { problemResponse } from "../src/lib/openapi";
import { createRouter } from "../src/routes/create-app";
import { aliasWriteStatements } from "../src/services/aliases";
import { api, countingRateLimit, deadUrl, fetchWorker, readProblem, testEnv } from "./support/app";
import { createProject, insertImageRow, insertKey, type TestKey, type TestProject, withDb } from "./support/fixtures";

/**
 * The shared security suite: every endpoint that takes a key is listed here once, and gets
 * every attack below. A new endpoint is covered by adding one line; the last test fails until
 * every keyed operation of the OpenAPI document is listed.
 */
interface KeyedEndpoint {
  method: "GET" | "POST" | "DELETE" | "PUT" | "PATCH";
  path: string;
  body?: unknown;
  form?: () => Promise<FormData>;
  access: "master" | "project" | "any-key";
  /**
   * The exact answer with the right key: the operation's success, or, for a path naming a
   * resource that does not exist, its 404 and code. Anything else (a 500 included) fails.
   */
  accepted: { status: number; code?: string };
  /** For endpoints that address a resource: a path to one owned by another project. */
  foreignResource?: (other: TestProject) => Promise<string>;
  /** The code another project's resource is refused with: NOT_FOUND unless the API names the resource. */
  foreignCode?: string;
}

/** A flow of another project: it exists there through one of its images (a lazy flow). */
/** A delivery of another project, to a URL nothing is ever sent to. */
async function foreignDelivery(other: TestProject): Promise<string> {
  const [row] = await withDb((db) =>
    db
      .insert(webhookDeliveries)
      .values({
        projectId: other.project.id,
        messageId: `msg_${crypto.randomUUID().replaceAll("-", "")}`,
        eventType: "generation.failed",
        url: "https://hooks.example.com/never",
        payload: { type: "generation.failed", timestamp: new Date().toISOString(), data: {} },
        state: "failed",
      })
      .returning({ id: webhookDeliveries.id }),
  );
  return (row as { id: string }).id;
}

async function foreignFlow(other: TestProject): Promise<string> {
  const flowId = crypto.randomUUID();
  await withDb((db) => insertImageRow(db, other, "uploads", { flowId }));
  return flowId;
}

const KEYED_ENDPOINTS: KeyedEndpoint[] = [
  {
    method: "POST",
    path: "/api/admin/keys",
    access: "master",
    accepted: { status: 201 },
    body: { type: "project", name: "x", projectSlug: "sec-suite" },
  },
  { method: "GET", path: "/api/admin/keys", access: "master", accepted: { status: 200 } },
  {
    method: "DELETE",
    path: `/api/admin/keys/${crypto.randomUUID()}`,
    access: "master",
    accepted: { status: 404, code: "API_KEY_NOT_FOUND" },
  },
  {
    method: "PATCH",
    path: `/api/admin/keys/${crypto.randomUUID()}`,
    access: "master",
    accepted: { status: 404, code: "API_KEY_NOT_FOUND" },
    body: { monthlyBudgetUsd: 5 },
  },
  { method: "GET", path: "/api/admin/audit", access: "master", accepted: { status: 200 } },
  { method: "GET", path: "/api/admin/health", access: "master", accepted: { status: 200 } },
  { method: "GET", path: "/api/me", access: "any-key", accepted: { status: 200 } },
  {
    method: "POST",
    path: "/api/text-to-image",
    access: "project",
    accepted: { status: 201 },
    body: { prompt: "a security test", autoEnhance: false },
  },
  {
    method: "POST",
    path: "/api/v1/generations",
    access: "project",
    accepted: { status: 201 },
    body: { prompt: "a security test", autoEnhance: false },
  },
  {
    method: "GET",
    path: `/api/v1/generations/${crypto.randomUUID()}`,
    access: "project",
    accepted: { status: 404, code: "GENERATION_NOT_FOUND" },
    foreignCode: "GENERATION_NOT_FOUND",
    foreignResource: async (other) => `/api/v1/generations/${await insertGenerationRow(other)}`,
  },
  { method: "GET", path: "/api/v1/generations", access: "project", accepted: { status: 200 } },
  {
    method: "PUT",
    path: `/api/v1/generations/${crypto.randomUUID()}`,
    access: "project",
    accepted: { status: 404, code: "GENERATION_NOT_FOUND" },
    foreignCode: "GENERATION_NOT_FOUND",
    body: { meta: { by: "security" } },
    foreignResource: async (other) => `/api/v1/generations/${await insertGenerationRow(other)}`,
  },
  {
    method: "POST",
    path: `/api/v1/generations/${crypto.randomUUID()}/regenerate`,
    access: "project",
    accepted: { status: 404, code: "GENERATION_NOT_FOUND" },
    foreignCode: "GENERATION_NOT_FOUND",
    foreignResource: async (other) => `/api/v1/generations/${await insertGenerationRow(other)}/regenerate`,
  },
  {
    method: "POST",
    path: `/api/v1/generations/${crypto.randomUUID()}/cancel`,
    access: "project",
    accepted: { status: 404, code: "GENERATION_NOT_FOUND" },
    foreignCode: "GENERATION_NOT_FOUND",
    foreignResource: async (other) => `/api/v1/generations/${await insertGenerationRow(other)}/cancel`,
  },
  {
    method: "DELETE",
    path: `/api/v1/generations/${crypto.randomUUID()}`,
    access: "project",
    accepted: { status: 404, code: "GENERATION_NOT_FOUND" },
    foreignCode: "GENERATION_NOT_FOUND",
    foreignResource: async (other) => `/api/v1/generations/${await insertGenerationRow(other)}`,
  },
  { method: "POST", path: "/api/quotes", access: "project", accepted: { status: 200 }, body: { prompt: "a security test" } },
  // With references, read alongside the key check: a refused key is still refused, whatever the read found.
  {
    method: "POST",
    path: "/api/quotes",
    access: "project",
    accepted: { status: 404, code: "IMAGE_NOT_FOUND" },
    body: { prompt: "a security test of @hero", referenceImages: [crypto.randomUUID()] },
  },
  { method: "POST", path: "/api/enhance", access: "project", accepted: { status: 200 }, body: { prompt: "a security test" } },
  { method: "POST", path: "/api/upload", access: "project", accepted: { status: 201 }, form: async () => pngForm() },
  {
    method: "POST",
    path: "/api/generate",
    access: "project",
    accepted: { status: 201 },
    form: async () => referenceForm(),
  },
  {
    method: "GET",
    path: "/api/usage",
    access: "any-key",
    accepted: { status: 200 },
    foreignResource: async (other) => `/api/usage?projectId=${other.project.id}`,
  },
  {
    method: "GET",
    path: "/api/usage/export.csv",
    access: "any-key",
    accepted: { status: 200 },
    foreignResource: async (other) =>
      `/api/usage/export.csv?keyId=${await withDb(async (db) => (await insertKey(db, { type: "project", scope: other })).id)}`,
  },
  { method: "GET", path: "/api/images/generated", access: "project", accepted: { status: 200 } },
  { method: "GET", path: "/api/images/uploads", access: "project", accepted: { status: 200 } },
  {
    method: "POST",
    path: `/api/images/${crypto.randomUUID()}/temporary-url`,
    access: "project",
    accepted: { status: 404, code: "NOT_FOUND" },
    foreignResource: async (other) => `/api/images/${await withDb((db) => insertImageRow(db, other))}/temporary-url`,
  },
  {
    method: "DELETE",
    path: `/api/images/${crypto.randomUUID()}`,
    access: "project",
    accepted: { status: 404, code: "NOT_FOUND" },
    foreignResource: async (other) => `/api/images/${await withDb((db) => insertImageRow(db, other))}`,
  },
  {
    method: "POST",
    path: `/api/images/${crypto.randomUUID()}/transform-url`,
    access: "project",
    accepted: { status: 404, code: "NOT_FOUND" },
    body: { options: "w=100" },
    foreignResource: async (other) => `/api/images/${await withDb((db) => insertImageRow(db, other))}/transform-url`,
  },
  { method: "POST", path: "/api/v1/images/upload", access: "project", accepted: { status: 201 }, form: async () => pngForm() },
  { method: "GET", path: "/api/v1/images", access: "project", accepted: { status: 200 } },
  {
    method: "GET",
    path: `/api/v1/images/${crypto.randomUUID()}`,
    access: "project",
    accepted: { status: 404, code: "IMAGE_NOT_FOUND" },
    foreignCode: "IMAGE_NOT_FOUND",
    foreignResource: async (other) => `/api/v1/images/${await withDb((db) => insertImageRow(db, other))}`,
  },
  {
    method: "GET",
    path: "/api/v1/images/resolve/@nobody",
    access: "project",
    accepted: { status: 404, code: "IMAGE_NOT_FOUND" },
    foreignCode: "IMAGE_NOT_FOUND",
    foreignResource: async (other) => `/api/v1/images/resolve/${await foreignAlias(other)}`,
  },
  {
    method: "PUT",
    path: `/api/v1/images/${crypto.randomUUID()}`,
    access: "project",
    accepted: { status: 404, code: "IMAGE_NOT_FOUND" },
    body: { meta: { x: 1 } },
    foreignCode: "IMAGE_NOT_FOUND",
    foreignResource: async (other) => `/api/v1/images/${await foreignAlias(other)}`,
  },
  {
    method: "PUT",
    path: `/api/v1/images/${crypto.randomUUID()}/alias`,
    access: "project",
    accepted: { status: 404, code: "IMAGE_NOT_FOUND" },
    body: { alias: "@sec" },
    foreignCode: "IMAGE_NOT_FOUND",
    foreignResource: async (other) => `/api/v1/images/${await withDb((db) => insertImageRow(db, other))}/alias`,
  },
  {
    method: "DELETE",
    path: `/api/v1/images/${crypto.randomUUID()}`,
    access: "project",
    accepted: { status: 404, code: "IMAGE_NOT_FOUND" },
    foreignCode: "IMAGE_NOT_FOUND",
    foreignResource: async (other) => `/api/v1/images/${await withDb((db) => insertImageRow(db, other))}`,
  },
  { method: "GET", path: "/api/project/image-settings", access: "project", accepted: { status: 200 } },
  { method: "PUT", path: "/api/project/image-settings", access: "project", accepted: { status: 200 }, body: { presets: {} } },
  { method: "GET", path: "/api/v1/flows", access: "project", accepted: { status: 200 } },
  { method: "GET", path: "/api/v1/webhooks", access: "project", accepted: { status: 200 } },
  {
    method: "PUT",
    path: "/api/v1/webhooks",
    access: "project",
    accepted: { status: 200 },
    body: { url: "https://hooks.example.com/banatie", events: ["generation.failed"] },
  },
  { method: "POST", path: "/api/v1/webhooks/secret", access: "project", accepted: { status: 201 } },
  { method: "GET", path: "/api/v1/webhooks/deliveries", access: "project", accepted: { status: 200 } },
  {
    method: "POST",
    path: `/api/v1/webhooks/deliveries/${crypto.randomUUID()}/redeliver`,
    access: "project",
    accepted: { status: 404, code: "WEBHOOK_DELIVERY_NOT_FOUND" },
    foreignResource: async (other) => `/api/v1/webhooks/deliveries/${await foreignDelivery(other)}/redeliver`,
    foreignCode: "WEBHOOK_DELIVERY_NOT_FOUND",
  },
  {
    method: "GET",
    path: `/api/v1/flows/${crypto.randomUUID()}`,
    access: "project",
    accepted: { status: 404, code: "FLOW_NOT_FOUND" },
    foreignResource: async (other) => `/api/v1/flows/${await foreignFlow(other)}`,
    foreignCode: "FLOW_NOT_FOUND",
  },
  {
    method: "GET",
    path: `/api/v1/flows/${crypto.randomUUID()}/generations`,
    access: "project",
    accepted: { status: 404, code: "FLOW_NOT_FOUND" },
    foreignResource: async (other) => `/api/v1/flows/${await foreignFlow(other)}/generations`,
    foreignCode: "FLOW_NOT_FOUND",
  },
  {
    method: "GET",
    path: `/api/v1/flows/${crypto.randomUUID()}/images`,
    access: "project",
    accepted: { status: 404, code: "FLOW_NOT_FOUND" },
    foreignResource: async (other) => `/api/v1/flows/${await foreignFlow(other)}/images`,
    foreignCode: "FLOW_NOT_FOUND",
  },
  {
    method: "PUT",
    path: `/api/v1/flows/${crypto.randomUUID()}/aliases`,
    access: "project",
    accepted: { status: 404, code: "IMAGE_NOT_FOUND" },
    body: { aliases: { "@hero": crypto.randomUUID() } },
  },
  {
    method: "DELETE",
    path: `/api/v1/flows/${crypto.randomUUID()}/aliases/@hero`,
    access: "project",
    accepted: { status: 404, code: "FLOW_NOT_FOUND" },
    foreignResource: async (other) => `/api/v1/flows/${await foreignFlow(other)}/aliases/@hero`,
    foreignCode: "FLOW_NOT_FOUND",
  },
  {
    method: "POST",
    path: `/api/v1/flows/${crypto.randomUUID()}/regenerate`,
    access: "project",
    accepted: { status: 404, code: "FLOW_NOT_FOUND" },
    foreignResource: async (other) => `/api/v1/flows/${await foreignFlow(other)}/regenerate`,
    foreignCode: "FLOW_NOT_FOUND",
  },
  {
    method: "DELETE",
    path: `/api/v1/flows/${crypto.randomUUID()}`,
    access: "project",
    accepted: { status: 404, code: "FLOW_NOT_FOUND" },
    foreignResource: async (other) => `/api/v1/flows/${await foreignFlow(other)}`,
    foreignCode: "FLOW_NOT_FOUND",
  },
  {
    method: "PATCH",
    path: `/api/admin/projects/${crypto.randomUUID()}`,
    access: "master",
    accepted: { status: 404, code: "PROJECT_NOT_FOUND" },
    body: { private: false },
  },
  {
    method: "PATCH",
    path: `/api/admin/organizations/${crypto.randomUUID()}`,
    access: "master",
    accepted: { status: 404, code: "ORGANIZATION_NOT_FOUND" },
    body: { stripeCustomerId: null },
  },
];

/** A generation of another project (no image behind it): enough to test who may address it. */
async function insertGenerationRow(other: TestProject): Promise<string> {
  return withDb(async (db) => {
    const key = await insertKey(db, { type: "project", scope: other });
    const [row] = await db
      .insert(generations)
      .values({ projectId: other.project.id, apiKeyId: key.id, originalPrompt: "x", aspectRatio: "1:1", outputFormat: "png" })
      .returning({ id: generations.id });
    return row?.id ?? "";
  });
}

/** A project alias (`@…`) of a new image of that project. */
async function foreignAlias(scope: TestProject): Promise<string> {
  const alias = `@sec-${crypto.randomUUID().slice(0, 8)}`;
  await withDb(async (db) => {
    const imageId = await insertImageRow(db, scope);
    const [first, ...rest] = aliasWriteStatements(db, { projectId: scope.project.id, imageId, alias }).statements;
    if (first) await db.batch([first, ...rest]);
  });
  return alias;
}

/** A valid small PNG upload, so that only the key decides the answer. */
async function pngForm(): Promise<FormData> {
  const { encodeImage } = await import("../src/images/codec");
  const png = await encodeImage({ data: new Uint8ClampedArray(8 * 8 * 4).fill(200), width: 8, height: 8 }, "png");
  const form = new FormData();
  form.append("file", new File([png.bytes], "dot.png", { type: "image/png" }));
  return form;
}

/** A valid POST /api/generate with one reference file, so that only the key decides the answer. */
async function referenceForm(): Promise<FormData> {
  const form = await pngForm();
  const file = form.get("file") as File;
  form.delete("file");
  form.append("files[]", file);
  form.append("prompt", "a security test");
  form.append("autoEnhance", "false");
  return form;
}

/** Operations anyone may call. */
const PUBLIC_OPERATIONS = [
  "GET /health",
  "GET /api/info",
  "POST /api/bootstrap/initial-key",
  "GET /api/bootstrap/status",
  "GET /api/openapi.json",
  // The URL is the capability, as for any CDN image.
  "GET /api/images/{organization}/{project}/{category}/{file}",
  // An image by id or project alias: public projects only.
  "GET /api/images/{organization}/{project}/img/{ref}",
];

const keys = {} as Record<
  "master" | "project" | "expiredMaster" | "expiredProject" | "revokedMaster" | "revokedProject",
  TestKey
>;
let other: TestProject;

beforeAll(async () => {
  await withDb(async (db) => {
    const scope = await createProject(db);
    other = await createProject(db);
    const past = new Date(Date.now() - 60_000);
    keys.master = await insertKey(db, { type: "master" });
    keys.project = await insertKey(db, { type: "project", scope });
    keys.expiredMaster = await insertKey(db, { type: "master", expiresAt: past });
    keys.expiredProject = await insertKey(db, { type: "project", scope, expiresAt: past });
    keys.revokedMaster = await insertKey(db, { type: "master", revokedAt: past });
    keys.revokedProject = await insertKey(db, { type: "project", scope, revokedAt: past });
  });
});

const rightType = (endpoint: KeyedEndpoint) => (endpoint.access === "master" ? "master" : "project");

describe.each(KEYED_ENDPOINTS)("$method $path", (endpoint) => {
  const call = async (key?: string, extra: { headers?: Record<string, string>; env?: Record<string, unknown> } = {}) =>
    api(endpoint.path, { method: endpoint.method, body: endpoint.body, form: await endpoint.form?.(), key, ...extra });

  async function expectUnauthorized(response: Response, code: string) {
    const problem = await readProblem(response);
    expect(response.status).toBe(401);
    expect(problem.code).toBe(code);
    expect(response.headers.get("www-authenticate")).toMatch(/^Bearer realm="banatie"/);
  }

  it("refuses a request without a key", async () => {
    const response = await call();
    await expectUnauthorized(response, "MISSING_API_KEY");
    expect(response.headers.get("www-authenticate")).toBe('Bearer realm="banatie"');
  });

  it("refuses a malformed key", async () => {
    await expectUnauthorized(await call("bnt_not-a-key"), "MALFORMED_API_KEY");
    await expectUnauthorized(await call("sk_live_0123456789"), "MALFORMED_API_KEY");
  });

  it("refuses a key with a bad checksum without asking the database", async () => {
    const good = keys[rightType(endpoint)].key;
    const typo = `${good.slice(0, 20)}${good[20] === "a" ? "b" : "a"}${good.slice(21)}`;
    // With the database unreachable, only a check that never queries it can still answer 401.
    const response = await call(typo, { env: { DATABASE_URL: deadUrl(testEnv.DATABASE_URL) } });
    await expectUnauthorized(response, "MALFORMED_API_KEY");
  });

  it("refuses a well-formed key that does not exist", async () => {
    const { generateApiKey } = await import("../src/domain/api-key");
    const made = await generateApiKey(rightType(endpoint));
    await expectUnauthorized(await call(made.plaintext), "INVALID_API_KEY");
  });

  it("refuses an expired key", async () => {
    const key = rightType(endpoint) === "master" ? keys.expiredMaster : keys.expiredProject;
    await expectUnauthorized(await call(key.key), "EXPIRED_API_KEY");
  });

  it("refuses a revoked key", async () => {
    const key = rightType(endpoint) === "master" ? keys.revokedMaster : keys.revokedProject;
    await expectUnauthorized(await call(key.key), "REVOKED_API_KEY");
  });

  it(
    `answers the right key, in X-API-Key and as a bearer token, with ${endpoint.accepted.status} ${endpoint.accepted.code ?? ""}`.trim(),
    async () => {
      const key = keys[rightType(endpoint)].key;
      for (const response of [await call(key), await call(undefined, { headers: { Authorization: `Bearer ${key}` } })]) {
        const text = await response.text();
        expect(response.status, text).toBe(endpoint.accepted.status);
        if (endpoint.accepted.code) expect((JSON.parse(text) as { code?: string }).code).toBe(endpoint.accepted.code);
      }
    },
  );

  it("cuts a burst from one key before asking the database", async () => {
    // A shield that refuses at once, and a database nobody could reach: only the shield can answer.
    const response = await call(keys[rightType(endpoint)].key, {
      env: { KEY_BURST_LIMITER: countingRateLimit(0), DATABASE_URL: deadUrl(testEnv.DATABASE_URL) },
    });
    const problem = await readProblem(response);
    expect(response.status).toBe(429);
    expect(problem.code).toBe("TOO_MANY_REQUESTS");
    expect(response.headers.get("retry-after")).toBe("10");
  });

  if (endpoint.access !== "any-key") {
    it("refuses a key of the other type with 403", async () => {
      const wrong = endpoint.access === "master" ? keys.project : keys.master;
      const response = await call(wrong.key);
      const problem = await readProblem(response);
      expect(response.status).toBe(403);
      expect(problem.code).toBe("INSUFFICIENT_SCOPE");
    });
  }

  if (endpoint.foreignResource) {
    it("answers 404 for another project's resource", async () => {
      const path = await endpoint.foreignResource?.(other);
      const response = await api(path as string, { method: endpoint.method, body: endpoint.body, key: keys.project.key });
      expect(response.status).toBe(404);
      expect((await readProblem(response)).code).toBe(endpoint.foreignCode ?? "NOT_FOUND");
    });
  }
});

describe("deny by default", () => {
  it("refuses a call to an endpoint that does not declare who may call it, even with a master key", async () => {
    const app = buildApp();
    // Its document lists what the guard answers, so the response is checked like any other.
    const route = createRoute({
      method: "get",
      path: "/api/forgotten",
      responses: { 200: { description: "ok" }, 403: problemResponse("Declares no access (ACCESS_NOT_DECLARED)") },
    });
    app.route(
      "/",
      createRouter().openapi(route, (c) => c.json({ secret: true }, 200)),
    );

    const response = await api("/api/forgotten", { app, key: keys.master.key });
    const problem = await readProblem(response);
    expect(response.status).toBe(403);
    expect(problem.code).toBe("ACCESS_NOT_DECLARED");
  });

  it("lists every operation of the API either as public or in the keyed suite above", async () => {
    const response = await fetchWorker("http://banatie.test/api/openapi.json");
    const document = (await response.json()) as { paths: Record<string, Record<string, { security?: unknown[] }>> };
    const keyed = new Set(
      KEYED_ENDPOINTS.map(
        (endpoint) => `${endpoint.method} ${endpoint.path.replace(/[0-9a-f-]{36}/, "{id}").replace(/\/@[\w-]+$/, "/{alias}")}`,
      ),
    );

    for (const [path, operations] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        const name = `${method.toUpperCase()} ${path}`;
        if (operation.security?.length) expect(keyed, `${name} is keyed but not in KEYED_ENDPOINTS`).toContain(name);
        else expect(PUBLIC_OPERATIONS, `${name} declares no security and is not listed as public`).toContain(name);
      }
    }
  });
});

describe("failed authentication", () => {
  it("is throttled per client after repeated failures, while other clients are unaffected", async () => {
    const ip = "203.0.113.77";
    const env = { AUTH_FAILURE_LIMITER: countingRateLimit(3) };
    const statuses: number[] = [];
    for (let attempt = 0; attempt < 5; attempt++) {
      const response = await api("/api/me", { key: "bnt_guess", ip, env });
      statuses.push(response.status);
      await response.body?.cancel();
    }
    expect(statuses).toEqual([401, 401, 401, 429, 429]);

    const throttled = await api("/api/me", { key: "bnt_guess", ip, env });
    const problem = await readProblem(throttled);
    expect(problem.code).toBe("AUTH_THROTTLED");
    expect(Number(throttled.headers.get("retry-after"))).toBeGreaterThan(0);

    const elsewhere = await api("/api/me", { key: "bnt_guess", ip: "203.0.113.78", env });
    expect(elsewhere.status).toBe(401);
    await elsewhere.body?.cancel();

    // Another client with a valid key is not affected.
    const legit = await api("/api/me", { key: keys.project.key, ip: "203.0.113.78", env });
    expect(legit.status).toBe(200);
    await legit.body?.cancel();
  });

  it("refuses a throttled client before any key lookup, on every keyed endpoint", async () => {
    const ip = "203.0.113.79";
    const env = { AUTH_FAILURE_LIMITER: countingRateLimit(1) };
    for (const expected of [401, 429]) {
      const response = await api("/api/me", { key: "bnt_guess", ip, env });
      expect(response.status).toBe(expected);
      await response.body?.cancel();
    }
    // Even a valid key that has not authenticated lately waits: with the database unreachable,
    // only a check made before the lookup can answer, and it answers 429 rather than 503.
    const fresh = await withDb(async (db) => ({
      master: await insertKey(db, { type: "master" }),
      project: await insertKey(db, { type: "project", scope: await createProject(db) }),
    }));
    const unreachable = { ...env, DATABASE_URL: deadUrl(testEnv.DATABASE_URL) };
    for (const endpoint of KEYED_ENDPOINTS) {
      const response = await api(endpoint.path, {
        method: endpoint.method,
        body: endpoint.body,
        form: await endpoint.form?.(),
        key: fresh[rightType(endpoint)].key,
        ip,
        env: unreachable,
      });
      const problem = await readProblem(response);
      expect(response.status, `${endpoint.method} ${endpoint.path}`).toBe(429);
      expect(problem.code).toBe("AUTH_THROTTLED");
      expect(Number(response.headers.get("retry-after"))).toBeGreaterThan(0);
    }
  });

  it("keeps a key that authenticated lately working from a throttled address (a shared NAT or proxy)", async () => {
    const ip = "203.0.113.80";
    const env = { AUTH_FAILURE_LIMITER: countingRateLimit(1) };
    const working = await api("/api/me", { key: keys.project.key, ip, env });
    expect(working.status).toBe(200);
    await working.body?.cancel();
    // Someone else behind the same address guesses until the address is throttled.
    for (const expected of [401, 429]) {
      const guess = await api("/api/me", { key: "bnt_guess", ip, env });
      expect(guess.status).toBe(expected);
      await guess.body?.cancel();
    }
    const stillWorking = await api("/api/me", { key: keys.project.key, ip, env });
    expect(stillWorking.status).toBe(200);
    await stillWorking.body?.cancel();
    const guessAgain = await api("/api/me", { key: "bnt_guess", ip, env });
    expect((await readProblem(guessAgain)).code).toBe("AUTH_THROTTLED");
  });

  it("counts an IPv6 client by its /64, so rotating addresses within it does not reset the budget", async () => {
    const env = { AUTH_FAILURE_LIMITER: countingRateLimit(2) };
    const statuses: number[] = [];
    for (const ip of ["2001:db8:77:1::1", "2001:db8:77:1::2", "2001:0db8:0077:0001:ffff::9"]) {
      const response = await api("/api/me", { key: "bnt_guess", ip, env });
      statuses.push(response.status);
      await response.body?.cancel();
    }
    expect(statuses).toEqual([401, 401, 429]);
    const nextNetwork = await api("/api/me", { key: "bnt_guess", ip: "2001:db8:77:2::1", env });
    expect(nextNetwork.status).toBe(401);
    await nextNetwork.body?.cancel();
  });
});
