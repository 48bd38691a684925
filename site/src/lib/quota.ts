import { callApi } from "./api";
import type { ApiBody, Schema } from "./api-contract";
import { formatDate } from "./format";
import { getKey } from "./key-store";
import { ApiError } from "./problem";

/** What the line shows, from GET /api/me or from a limited response's headers. */
type QuotaState = Pick<Schema<"Me">["quota"], "limit" | "remaining" | "resetAt">;

function describe(quota: QuotaState): string {
  return `Quota: ${quota.remaining} of ${quota.limit} requests left this hour (resets ${formatDate(quota.resetAt)}).`;
}

/** Counts updates of a quota line, so a slow answer never overwrites a newer figure. */
function nextVersion(element: HTMLElement): string {
  element.dataset.version = String(Number(element.dataset.version ?? 0) + 1);
  return element.dataset.version;
}

/** Shows the project key's quota from GET /api/me, which reads it without spending any. */
export async function showQuota(element: HTMLElement): Promise<void> {
  const version = nextVersion(element);
  if (!getKey("project")) {
    element.textContent = "No project key in this browser: add one with the “API keys” menu.";
    return;
  }
  let text: string;
  try {
    const result = await callApi<ApiBody<"getMe", 200>>("/api/me", { key: "project" });
    text = describe(result.body.data.quota);
  } catch (error) {
    text = `Quota unknown: ${error instanceof ApiError ? (error.problem.code ?? error.message) : String(error)}.`;
  }
  if (element.dataset.version === version) element.textContent = text;
}

/** Updates the line from the X-RateLimit-* headers of a limited response, when it has them. */
export function showQuotaFromHeaders(element: HTMLElement, header: (name: string) => string | null): void {
  const limit = Number(header("X-RateLimit-Limit"));
  const remaining = Number(header("X-RateLimit-Remaining"));
  const resetAt = header("X-RateLimit-Reset");
  if (!limit || !Number.isFinite(remaining) || !resetAt) return;
  nextVersion(element);
  element.textContent = describe({ limit, remaining, resetAt });
}
