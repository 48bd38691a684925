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
}

/** A failed API call: the HTTP status and the problem the API answered (or one made up for network failures). */
export class ApiError extends Error {
  readonly status: number;
  readonly problem: Problem;
  readonly body: unknown;

  constructor(status: number, problem: Problem, body: unknown = problem) {
    super(problem.detail ?? problem.message ?? problem.title ?? `HTTP ${status}`);
    this.name = "ApiError";
    this.status = status;
    this.problem = problem;
    this.body = body;
  }
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
  BOOTSTRAP_COMPLETED: "A master key already exists. Ask whoever holds it for a key.",
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
  if (detail && detail !== problem.title) {
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
  const hint = problem.code ? HINTS[problem.code] : undefined;
  if (hint) {
    const text = document.createElement("p");
    text.className = "problem-hint";
    text.textContent = hint;
    box.append(text);
  }
  if (problem.code || problem.requestId) {
    const ids = document.createElement("p");
    ids.className = "problem-ids";
    if (problem.code) {
      const link = document.createElement("a");
      link.href = `/docs/errors#${problem.code.toLowerCase().replaceAll("_", "-")}`;
      link.textContent = problem.code;
      ids.append("Code ", link);
    }
    if (problem.requestId) ids.append(`${problem.code ? " · " : ""}Request id ${problem.requestId}`);
    box.append(ids);
  }
  return box;
}
