import { and, eq } from "drizzle-orm";
import type { Context } from "hono";
import { apiKeys } from "../../db/schema";
import { AppError } from "../../lib/errors";
import { authorize } from "../../middleware/access";
import type { HonoEnv } from "../../middleware/env";
import { type UsageDay, type UsageFilter, type UsageGroup, usageByDay, usageRange } from "../../services/usage-report";
import type { AppRouteHandler } from "../create-app";
import type { exportUsageRoute, getUsageRoute } from "./usage.routes";

type UsageQuery = { from?: string; to?: string; groupBy: UsageGroup; projectId?: string; keyId?: string };

/**
 * The filter a caller may run: a master key anything, a project key its own project only. Another
 * project, or another project's key, is a 404 NOT_FOUND like any other tenant's object, the same
 * answer as for one that does not exist.
 */
async function scopedFilter(c: Context<HonoEnv>, query: UsageQuery): Promise<UsageFilter> {
  const range = usageRange(query);
  if ("field" in range) {
    throw new AppError("VALIDATION_ERROR", `Invalid request query: ${range.field}: ${range.message}`, {
      errors: [{ field: range.field, message: range.message }],
    });
  }
  const caller = await authorize(c);
  const filter = { ...range, groupBy: query.groupBy, projectId: query.projectId, keyId: query.keyId };
  if (caller.type === "master") return { ...filter, includeNonBillable: true };
  const ownProject = caller.project?.id as string;
  if (query.projectId && query.projectId !== ownProject) {
    throw new AppError("NOT_FOUND", `projectId: no project ${query.projectId}`);
  }
  if (query.keyId && query.keyId !== caller.keyId) {
    const [key] = await c.var.services.db
      .select({ id: apiKeys.id })
      .from(apiKeys)
      .where(and(eq(apiKeys.id, query.keyId), eq(apiKeys.projectId, ownProject)));
    if (!key) throw new AppError("NOT_FOUND", `keyId: no API key ${query.keyId} in this project`);
  }
  return { ...filter, projectId: ownProject, includeNonBillable: false };
}

const seconds = (day: string) => Date.parse(`${day}T00:00:00Z`) / 1000;
const usd = (micros: number) => ({ value: micros / 1_000_000, currency: "usd" as const });

/** The days as OpenAI's costs API shapes them: buckets of results, amounts in dollars. */
function usagePage(days: UsageDay[]) {
  return {
    object: "page" as const,
    data: days.map(({ day, lines }) => ({
      object: "bucket" as const,
      start_time: seconds(day),
      end_time: seconds(day) + 86_400,
      results: lines.map((line) => ({
        object: "organization.usage.result" as const,
        images: line.images,
        requests: line.requests,
        input_tokens: line.inputTokens,
        output_tokens: line.outputTokens,
        amount: usd(line.costUsdMicros),
        project_id: line.projectId,
        api_key_id: line.apiKeyId,
        model: line.model,
        ...(line.nonBillable
          ? { non_billable_requests: line.nonBillable.requests, non_billable_amount: usd(line.nonBillable.costUsdMicros) }
          : {}),
      })),
    })),
    has_more: false as const,
    next_page: null,
  };
}

export const getUsage: AppRouteHandler<typeof getUsageRoute> = async (c) => {
  const filter = await scopedFilter(c, c.req.valid("query"));
  const days = await usageByDay(c.var.services.db, filter);
  return c.json({ success: true as const, data: usagePage(days) }, 200);
};

/** RFC 4180: a field with a comma, a quote or a line break is quoted, its quotes doubled. */
function csvField(value: string | number | null | undefined): string {
  const text = value === null || value === undefined ? "" : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

const csvLine = (fields: (string | number | null | undefined)[]) => `${fields.map(csvField).join(",")}\r\n`;

export const exportUsage: AppRouteHandler<typeof exportUsageRoute> = async (c) => {
  const filter = await scopedFilter(c, c.req.valid("query"));
  const page = usagePage(await usageByDay(c.var.services.db, filter));
  const extra = filter.includeNonBillable ? ["non_billable_requests", "non_billable_amount_value"] : [];
  const header = ["start_time", "end_time", "project_id", "api_key_id", "model", "images", "requests"];
  header.push("input_tokens", "output_tokens", "amount_value", "amount_currency", ...extra);
  const rows = page.data.flatMap((bucket) =>
    bucket.results.map((result) => {
      const fields: (string | number | null | undefined)[] = [
        bucket.start_time,
        bucket.end_time,
        result.project_id,
        result.api_key_id,
        result.model,
      ];
      fields.push(result.images, result.requests, result.input_tokens, result.output_tokens);
      fields.push(result.amount.value, result.amount.currency);
      if (filter.includeNonBillable) fields.push(result.non_billable_requests, result.non_billable_amount?.value);
      return csvLine(fields);
    }),
  );
  // One chunk per row: a year by key is thousands of rows, never built into one string.
  const encoder = new TextEncoder();
  const lines = [csvLine(header), ...rows][Symbol.iterator]();
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      const next = lines.next();
      if (next.done) controller.close();
      else controller.enqueue(encoder.encode(next.value));
    },
  });
  return c.body(body, 200, {
    "Content-Type": "text/csv; charset=utf-8",
    "Content-Disposition": `attachment; filename="usage-${filter.from}-${filter.to}.csv"`,
  });
};
