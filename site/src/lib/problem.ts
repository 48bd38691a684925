import { type BudgetProblem, budgetProblemText } from "./money";

/** RFC 9457 problem details as the API sends them, with Banatie's extension members. */
export interface Problem {
  type?: string;
  title?: string;
  status?: number;
  detail?: string;
  message?: string;
  instance?: string;
  code?: string;
  requestId?: string;
  errors?: { field: string; message: string }[];
  /** On BUDGET_EXCEEDED: the budget the request would cross. */
  budget?: BudgetProblem;
}

/**
 * A failed API call: the HTTP status (0 when no request was answered), the problem the API
 * answered (or one made up for network failures), and the response headers, which say when to
 * retry (Retry-After) and which request to quote (X-Request-Id).
 */
export class ApiError extends Error {
  readonly status: number;
  readonly problem: Problem;
  readonly body: unknown;
  readonly headers: Headers;

  constructor(status: number, problem: Problem, body: unknown = problem, headers: Headers = new Headers()) {
    super(problem.detail ?? problem.message ?? problem.title ?? `HTTP ${status}`);
    this.name = "ApiError";
    this.status = status;
    this.problem = problem;
    this.body = body;
    this.headers = headers;
  }
}

/** Seconds to wait from a Retry-After value (delay in seconds or an HTTP date), or null when absent or unreadable. */
export function retryAfterSeconds(value: string | null, now: number = Date.now()): number | null {
  if (!value?.trim()) return null;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? null : Math.max(0, Math.ceil((date - now) / 1000));
}

/** "Retry in N s." for a failure whose response said when to try again, else null. */
export function retryText(error: unknown, now: number = Date.now()): string | null {
  if (!(error instanceof ApiError)) return null;
  const seconds = retryAfterSeconds(error.headers.get("Retry-After"), now);
  return seconds === null ? null : `Retry in ${seconds} s.`;
}

/** True for the made-up problem a page shows when it needs a key the browser does not hold. */
export function isMissingKey(error: unknown): boolean {
  return error instanceof ApiError && error.problem.code === "MISSING_API_KEY";
}

/** Reads whatever a failed response holds into a problem, even when it is not problem+json. */
export function toProblem(status: number, statusText: string, body: unknown): Problem {
  if (body && typeof body === "object" && ("code" in body || "title" in body || "detail" in body)) return body as Problem;
  return {
    status,
    title: statusText || `HTTP ${status}`,
    detail: typeof body === "string" && body ? body.slice(0, 300) : undefined,
  };
}

const HINTS: Record<string, string> = {
  MISSING_API_KEY: "Set a key with the “API keys” button at the top of the page.",
  MALFORMED_API_KEY: "The stored key is not a Banatie key: remove it and paste the key again.",
  INVALID_API_KEY: "This key is unknown to this platform: remove it and use another one.",
  EXPIRED_API_KEY: "This key has expired: create a new one on the API keys page.",
  REVOKED_API_KEY: "This key was revoked: create a new one on the API keys page and use it here.",
  INSUFFICIENT_SCOPE: "This page needs the other kind of key (master for admin pages, project for workbenches).",
  RATE_LIMIT_EXCEEDED: "The key's hourly quota is spent; it resets at the top of the hour.",
  BUDGET_EXCEEDED:
    "This request could cost more than is left of the monthly budget: a master key can raise it, or wait for the reset.",
  BOOTSTRAP_COMPLETED: "A master key already exists. Ask whoever holds it for a key.",
  BOOTSTRAP_TOKEN_REQUIRED: "Enter the installation's bootstrap token (its BOOTSTRAP_TOKEN secret).",
  INVALID_BOOTSTRAP_TOKEN: "This is not the installation's BOOTSTRAP_TOKEN: check it with whoever deployed it.",
  BOOTSTRAP_NOT_CONFIGURED: "This installation has no BOOTSTRAP_TOKEN yet: whoever deploys it must set one first.",
  TOO_MANY_REQUESTS: "Too many requests with this key are running at once: wait for some to finish, then try again.",
  AUTH_THROTTLED: "Too many failed key checks came from this client: wait a minute, then try again with a valid key.",
  SIGNATURE_REQUIRED:
    "Arbitrary sizes need a signed URL: use a preset such as ?preset=thumbnail, or sign the URL on your server.",
  VARIANT_LIMIT: "This image already has as many variants as allowed: reuse one of its existing sizes or presets.",
};

/** Builds a readable error block: title, detail, each invalid field, a hint, and the ids to quote to support. */
export function renderProblem(error: unknown): HTMLElement {
  const problem: Problem = error instanceof ApiError ? error.problem : { title: "Unexpected error", detail: String(error) };
  const status = error instanceof ApiError ? error.status : undefined;
  const box = document.createElement("div");
  box.className = "problem";
  const title = document.createElement("p");
  title.className = "problem-title";
  title.textContent = `${problem.title ?? "Request failed"}${status ? ` (${status})` : ""}`;
  box.append(title);
  const detail = problem.detail ?? problem.message;
  // A budget problem's own figures say it all, with the reset in the visitor's time.
  if (detail && detail !== problem.title && !problem.budget) {
    const text = document.createElement("p");
    text.textContent = detail;
    box.append(text);
  }
  if (problem.errors?.length) {
    const list = document.createElement("ul");
    for (const field of problem.errors) {
      const item = document.createElement("li");
      const name = document.createElement("code");
      name.textContent = field.field;
      item.append(name, `: ${field.message}`);
      list.append(item);
    }
    box.append(list);
  }
  if (problem.budget) {
    const text = document.createElement("p");
    text.className = "problem-budget";
    text.textContent = budgetProblemText(problem.budget);
    box.append(text);
  }
  const hint = problem.code ? HINTS[problem.code] : undefined;
  if (hint) {
    const text = document.createElement("p");
    text.className = "problem-hint";
    text.textContent = hint;
    box.append(text);
  }
  const retry = retryText(error);
  if (retry) {
    const text = document.createElement("p");
    text.className = "problem-retry";
    text.textContent = retry;
    box.append(text);
  }
  // The body's id when it has one; otherwise the header, which every API response carries.
  const requestId = problem.requestId ?? (error instanceof ApiError ? error.headers.get("X-Request-Id") : null);
  if (problem.code || requestId) {
    const ids = document.createElement("p");
    ids.className = "problem-ids";
    if (problem.code) {
      const link = document.createElement("a");
      link.href = `/docs/errors#${problem.code.toLowerCase().replaceAll("_", "-")}`;
      link.textContent = problem.code;
      ids.append("Code ", link);
    }
    if (requestId) ids.append(`${problem.code ? " · " : ""}Request id ${requestId}`);
    box.append(ids);
  }
  return box;
}
