import { createRoute, z } from "@hono/zod-openapi";
import { commonErrorResponses, keyErrorResponses, keySecurity, problemResponse, successEnvelope } from "../../lib/openapi";
import { access } from "../../middleware/access";
import { MAX_USAGE_RANGE_DAYS, USAGE_GROUPS, utcDayOf } from "../../services/usage-report";

const utcDay = (description: string) =>
  z
    .string()
    .refine((value) => utcDayOf(value) !== null, "must be a UTC date (YYYY-MM-DD) or a datetime at 00:00 UTC")
    .optional()
    .openapi({ description, example: "2026-12-01" });

const UsageQuery = z.object({
  from: utcDay("First UTC day included (YYYY-MM-DD, or a datetime at 00:00 UTC); default: the first day of this month"),
  to: utcDay(`First UTC day excluded; default: the first day of next month. At most ${MAX_USAGE_RANGE_DAYS} days after \`from\``),
  groupBy: z
    .enum(USAGE_GROUPS)
    .default("day")
    .openapi({ description: "How each day's results are split: one per day, or one per key, project or model" }),
  projectId: z.string().uuid().optional().openapi({ description: "Only this project (a project key: its own only)" }),
  keyId: z.string().uuid().optional().openapi({ description: "Only this API key (a project key: one of its project)" }),
});

const Amount = z.object({
  value: z.number().openapi({ description: "US dollars", example: 0.039 }),
  currency: z.literal("usd"),
});

const UsageResultSchema = z
  .object({
    object: z.literal("organization.usage.result"),
    images: z.number().int().openapi({ description: "Billable image-model calls" }),
    requests: z.number().int().openapi({ description: "Billable model calls of any kind (image and prompt enhancement)" }),
    input_tokens: z.number().int(),
    output_tokens: z.number().int(),
    amount: Amount.openapi({ description: "What was charged: billable calls only" }),
    project_id: z.string().uuid().nullable().openapi({ description: "Set when grouped by project" }),
    api_key_id: z.string().uuid().nullable().openapi({ description: "Set when grouped by key" }),
    model: z.string().nullable().openapi({ description: "Set when grouped by model" }),
    non_billable_requests: z.number().int().optional().openapi({
      description: "Master keys only: calls the provider charged for but the user was not (refusals, failures)",
    }),
    non_billable_amount: Amount.optional().openapi({ description: "Master keys only: the cost of those calls" }),
  })
  .openapi("UsageResult");

const UsageBucketSchema = z
  .object({
    object: z.literal("bucket"),
    start_time: z.number().int().openapi({ description: "Start of the UTC day, Unix seconds" }),
    end_time: z.number().int().openapi({ description: "End of the UTC day (exclusive), Unix seconds" }),
    results: z.array(UsageResultSchema),
  })
  .openapi("UsageBucket");

const UsagePageSchema = z
  .object({
    object: z.literal("page"),
    data: z.array(UsageBucketSchema),
    has_more: z.literal(false),
    next_page: z.null(),
  })
  .openapi("UsagePage", { description: "OpenAI's costs API page shape: one bucket per UTC day of the range" });

/** Any key: a project key reads its own project's usage, which spends no quota. */
const usageAccess = () => ({ middleware: [access.anyKey()], security: keySecurity, request: { query: UsageQuery } });

const usageErrors = {
  400: problemResponse("Invalid range, grouping or filter (VALIDATION_ERROR naming the field)"),
  404: problemResponse("A project key asked for another project or another project's key"),
  ...keyErrorResponses,
  ...commonErrorResponses,
} as const;

export const getUsageRoute = createRoute({
  method: "get",
  path: "/api/usage",
  tags: ["Usage"],
  operationId: "getUsage",
  summary: "Images, requests, tokens and cost by UTC day",
  description:
    "A project key sees its own project; a master key sees every project, and what was not billed. Whole UTC days only.",
  ...usageAccess(),
  responses: {
    200: { description: "One bucket per day", content: { "application/json": { schema: successEnvelope(UsagePageSchema) } } },
    ...usageErrors,
  },
});

export const exportUsageRoute = createRoute({
  method: "get",
  path: "/api/usage/export.csv",
  tags: ["Usage"],
  operationId: "exportUsageCsv",
  summary: "The same usage as CSV, streamed",
  description: "One row per bucket result (RFC 4180), with the columns of GET /api/usage's results.",
  ...usageAccess(),
  responses: {
    200: {
      description: "A CSV file",
      headers: { "Content-Disposition": { description: "attachment; filename=usage-FROM-TO.csv", schema: { type: "string" } } },
      content: { "text/csv": { schema: z.string() } },
    },
    ...usageErrors,
  },
});
