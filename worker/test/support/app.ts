import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { buildApp } from "../../src/app";

/** The bindings of the test Worker: the global setup's stack, plus a port where nothing listens. */
export const testEnv = env as Env & { DEAD_PORT: string; DATABASE_URL: string; S3_ENDPOINT: string };

/** A URL on 127.0.0.1 where nothing listens: what a stopped PostgreSQL or S3 server looks like. */
export function deadUrl(url: string): string {
  const parsed = new URL(url);
  parsed.port = testEnv.DEAD_PORT;
  return parsed.toString();
}

/**
 * Sends a request through the real app with the test bindings, optionally changed, and waits
 * for its background work (closing the database pool) so nothing leaks into the next test.
 */
export async function callApp(path: string, init: RequestInit = {}, overrides: Record<string, unknown> = {}) {
  const ctx = createExecutionContext();
  const response = await buildApp().fetch(new Request(`http://banatie.test${path}`, init), { ...testEnv, ...overrides }, ctx);
  await waitOnExecutionContext(ctx);
  return response;
}

/** Reads a problem+json body and checks the envelope every error shares. */
export async function readProblem(response: Response) {
  expectProblemHeaders(response);
  return (await response.json()) as {
    type: string;
    title: string;
    status: number;
    detail: string;
    instance?: string;
    code: string;
    requestId: string;
    success: false;
    errors?: { field: string; message: string }[];
  };
}

function expectProblemHeaders(response: Response) {
  const type = response.headers.get("content-type") ?? "";
  if (!type.startsWith("application/problem+json")) {
    throw new Error(`expected application/problem+json, got ${type} (status ${response.status})`);
  }
}
