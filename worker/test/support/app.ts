import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import type { Schema } from "../../../site/src/lib/api-contract";
import { buildApp } from "../../src/app";
import { type OpenApiContract, type OpenApiDocument, openApiContract } from "./openapi-contract";

/** The bindings of the test Worker: the global setup's stack, plus a few test-only values. */
export const testEnv = env as Env & {
  DEAD_PORT: string;
  DATABASE_URL: string;
  DATABASE_WS_PROXY: string;
  DATABASE_HTTP_ENDPOINT: string;
  S3_ENDPOINT: string;
  /** The Gemini-protocol fake of the global setup. */
  GEMINI_BASE_URL: string;
  ISOLATED_DATABASE_URLS: Record<string, string>;
  /** Control of a PostgreSQL and S3 server that tests may pause (dev/test/support/pausable-stack.ts). */
  PAUSABLE_STACK_URL: string;
  /** What the test stack's database and storage servers were asked (dev/test/support/round-trip-log.ts). */
  ROUND_TRIPS_URL: string;
  /** Set by the stack, so tests can sign URLs as the API does. */
  URL_SIGNING_SECRET: string;
  /** Set by the global setup: outside development, bootstrapping needs it. */
  BOOTSTRAP_TOKEN: string;
};

/** A URL on 127.0.0.1 where nothing listens: what a stopped PostgreSQL or S3 server looks like. */
export function deadUrl(url: string): string {
  const parsed = new URL(url);
  parsed.port = testEnv.DEAD_PORT;
  return parsed.toString();
}

/** The API Worker (the default) or the image delivery Worker: anything with their fetch handler. */
type App = Pick<ReturnType<typeof buildApp>, "fetch" | "getOpenAPI31Document">;

async function servedDocument(app: App): Promise<OpenApiDocument | undefined> {
  const ctx = createExecutionContext();
  const response = await app.fetch(new Request("http://banatie.test/api/openapi.json"), testEnv, ctx);
  return response.status === 200 ? ((await response.json()) as OpenApiDocument) : undefined;
}

/**
 * The document of the operations an app declares, from its own routes: the delivery Worker
 * serves none, and mounts one (its short CDN image URL) that the API's document does not list.
 */
function declaredBy(app: App): OpenApiDocument {
  return app.getOpenAPI31Document({ openapi: "3.1.0", info: { title: "declared", version: "0" } }) as unknown as OpenApiDocument;
}

let apiDocument: Promise<OpenApiDocument> | undefined;
let apiContract: Promise<OpenApiContract> | undefined;
const appContracts = new WeakMap<App, Promise<OpenApiContract>>();

/**
 * The OpenAPI document of the API, or of the app a test built (GET /api/openapi.json), so a
 * test's own routes are checked against what they declare. The delivery Worker serves no
 * document: its operations answer to what its routes declare.
 */
function contractOf(app?: App): Promise<OpenApiContract> {
  apiDocument ??= servedDocument(buildApp()).then((document) => {
    if (!document) throw new Error("The API serves no OpenAPI document at /api/openapi.json");
    return document;
  });
  apiContract ??= apiDocument.then(openApiContract);
  if (!app) return apiContract;
  let contract = appContracts.get(app);
  if (!contract) {
    contract = (async () => openApiContract((await servedDocument(app)) ?? declaredBy(app)))();
    appContracts.set(app, contract);
  }
  return contract;
}

/**
 * Fails the test when a response breaks the OpenAPI document: every response a test receives
 * must be one the document promises (status, content type and body schema of its operation).
 */
export async function assertDocumented(request: Request, response: Response, app?: App): Promise<void> {
  const copy = response.clone();
  const failure = await (await contractOf(app)).check({
    method: request.method,
    path: new URL(request.url).pathname,
    status: response.status,
    contentType: response.headers.get("content-type"),
    body: () => copy.text(),
  });
  if (failure) throw new Error(`Response outside the OpenAPI document: ${failure}`);
}

/**
 * Sends a request through an app (the real one by default) with the test bindings, optionally
 * changed, and waits for its background work (audit records, closing the database pool). The
 * response must match the OpenAPI document.
 */
export async function callApp(path: string, init: RequestInit = {}, overrides: Record<string, unknown> = {}, app?: App) {
  const ctx = createExecutionContext();
  // A path, on the test origin, or a whole URL (a request to another host, such as the CDN's).
  const request = new Request(URL.canParse(path) ? path : `http://banatie.test${path}`, init);
  const response = await (app ?? buildApp()).fetch(request, { ...testEnv, ...overrides }, ctx);
  await waitOnExecutionContext(ctx);
  await assertDocumented(request, response, app);
  return response;
}

/** Calls the deployed entry point (the Worker's default export), checking the response against the document. */
export async function fetchWorker(url: string, init?: RequestInit): Promise<Response> {
  const request = new Request(url, init);
  const response = await exports.default.fetch(request);
  await assertDocumented(request, response);
  return response;
}

export interface ApiRequest {
  method?: string;
  key?: string;
  /** Sent as JSON. */
  body?: unknown;
  /** Sent as multipart/form-data. */
  form?: FormData;
  /** Client address as Cloudflare reports it; a fresh one by default so failure throttling stays per test. */
  ip?: string;
  headers?: Record<string, string>;
  /** Other bindings, e.g. a database of its own. */
  env?: Record<string, unknown>;
  app?: App;
}

let ipCounter = 0;
/** A distinct documentation-range address (RFC 5737) per call; only ever a header value. */
export function freshIp(): string {
  ipCounter++;
  return `198.51.${Math.floor(ipCounter / 250) % 250}.${(ipCounter % 250) + 1}`;
}

/** Calls the API as a client would. */
export async function api(path: string, request: ApiRequest = {}) {
  const headers: Record<string, string> = {
    "CF-Connecting-IP": request.ip ?? freshIp(),
    "User-Agent": "banatie-tests/1.0",
    ...request.headers,
  };
  if (request.key) headers["X-API-Key"] = request.key;
  if (request.body !== undefined) headers["Content-Type"] = "application/json";
  const hasBody = request.body !== undefined || request.form !== undefined;
  const init: RequestInit = {
    method: request.method ?? (hasBody ? "POST" : "GET"),
    headers,
    body: request.form ?? (request.body === undefined ? undefined : JSON.stringify(request.body)),
  };
  return callApp(path, init, request.env, request.app);
}

/** Reads a problem+json body and checks the envelope every error shares. */
export async function readProblem(response: Response) {
  const type = response.headers.get("content-type") ?? "";
  if (!type.startsWith("application/problem+json")) {
    throw new Error(`expected application/problem+json, got ${type} (status ${response.status}): ${await response.text()}`);
  }
  return (await response.json()) as Schema<"Problem">;
}

/**
 * A stand-in for a `[[ratelimits]]` binding that allows `limit` calls per key, then refuses:
 * deterministic, unlike the real binding's time windows.
 */
export function countingRateLimit(limit: number): RateLimit {
  const calls = new Map<string, number>();
  return {
    async limit({ key }: { key: string }) {
      const count = (calls.get(key) ?? 0) + 1;
      calls.set(key, count);
      return { success: count <= limit };
    },
  } as RateLimit;
}
