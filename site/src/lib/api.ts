import type { ApiBody, Schema } from "./api-contract";
import { getKey, type KeyKind } from "./key-store";
import { ApiError, toProblem } from "./problem";

export interface ApiCall {
  method?: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  /** Query parameters; empty values are left out. */
  query?: Record<string, string | number | undefined | null>;
  /** A JSON body, sent exactly as `JSON.stringify` writes it. */
  json?: unknown;
  /** Which stored key to send as X-API-Key; none for public endpoints. */
  key?: KeyKind;
  /** Other request headers (the bootstrap token, for one). */
  headers?: Record<string, string>;
  /** The media type asked for; default JSON. Only a JSON answer is parsed: anything else is returned as text. */
  accept?: string;
}

export interface ApiResult<T> {
  status: number;
  headers: Headers;
  body: T;
  /** Wall time of the call as the browser measured it. */
  ms: number;
}

/** This origin's API: everything under /api/, and /health, the one public route the reference lists outside it. */
function isApiPath(pathname: string): boolean {
  return pathname.startsWith("/api/") || pathname === "/health";
}

/**
 * A same-origin URL for an API path with the non-empty query parameters. Anything that resolves
 * elsewhere (another origin, a path outside the API, `..` climbing out of it) is refused, since
 * callers attach the key to it.
 */
export function apiUrl(path: string, query: ApiCall["query"] = {}): string {
  const url = new URL(path, window.location.origin);
  if (!path.startsWith("/") || url.origin !== window.location.origin || !isApiPath(url.pathname))
    throw new Error(`Refusing to call ${JSON.stringify(path)}: only this site's API is called.`);
  for (const [name, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== "") url.searchParams.set(name, String(value));
  }
  return url.toString();
}

/** Thrown before any request when a page needs a key the visitor has not stored; status 0, as nothing was answered. */
export function missingKeyError(kind: KeyKind): ApiError {
  return new ApiError(0, {
    title: `No ${kind} key in this browser`,
    detail: `This page calls the API with a ${kind} key. Add one with the “API keys” button at the top of the page.`,
    code: "MISSING_API_KEY",
  });
}

/**
 * Calls the API on this origin. The key goes only in the X-API-Key header, never in the URL.
 * Resolves with the parsed body on 2xx; rejects with an ApiError carrying the problem otherwise.
 */
export async function callApi<T>(path: string, call: ApiCall = {}): Promise<ApiResult<T>> {
  // Checked before the key is read, so it can only ever go to this origin's API.
  const url = apiUrl(path, call.query);
  const headers: Record<string, string> = { ...call.headers, Accept: call.accept ?? "application/json" };
  if (call.key) {
    const key = getKey(call.key);
    if (!key) throw missingKeyError(call.key);
    headers["X-API-Key"] = key;
  }
  if (call.json !== undefined) headers["Content-Type"] = "application/json";
  const started = performance.now();
  let response: Response;
  try {
    response = await fetch(url, {
      method: call.method ?? "GET",
      headers,
      // What a key reads is current and private: never an HTTP-cache copy, which Back and Forward would reuse.
      cache: call.key ? "no-store" : "default",
      body: call.json === undefined ? undefined : JSON.stringify(call.json),
    });
  } catch (error) {
    throw new ApiError(0, { title: "Network error", detail: `The API could not be reached: ${String(error)}` });
  }
  const text = await response.text();
  const ms = performance.now() - started;
  let body: unknown = text;
  // A file asked for (a CSV) stays text even when it happens to read as JSON; its problems are still parsed.
  if (!call.accept || !response.ok || /json/.test(response.headers.get("Content-Type") ?? "")) {
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      // Not JSON: keep the text, the problem below quotes it.
    }
  }
  if (!response.ok)
    throw new ApiError(response.status, toProblem(response.status, response.statusText, body), body, response.headers);
  return { status: response.status, headers: response.headers, body: body as T, ms };
}

let infoPromise: Promise<Schema<"Info">> | undefined;

/** GET /api/info once per page: limits, formats, aspect ratios and templates. */
export function loadInfo(): Promise<Schema<"Info">> {
  infoPromise ??= callApi<ApiBody<"getInfo", 200>>("/api/info").then((result) => result.body.data);
  return infoPromise;
}
