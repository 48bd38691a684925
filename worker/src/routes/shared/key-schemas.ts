import { z } from "@hono/zod-openapi";

const ScopeSchema = z.object({ id: z.string().uuid(), slug: z.string() }).nullable();

export const KeySchema = z
  .object({
    id: z.string().uuid(),
    type: z.enum(["master", "project"]),
    name: z.string(),
    prefix: z.string().openapi({ description: "First characters of the key, to tell keys apart", example: "bnt_pk_4fQx9Z" }),
    organization: ScopeSchema,
    project: ScopeSchema,
    rateLimitPerHour: z.number().int(),
    monthlyBudgetUsd: z.number().nullable().openapi({ description: "Monthly spending cap in USD; null for none" }),
    createdAt: z.string().datetime(),
    expiresAt: z.string().datetime().nullable(),
    lastUsedAt: z.string().datetime().nullable().openapi({ description: "Refreshed at most once a minute" }),
    revokedAt: z.string().datetime().nullable(),
    revokedReason: z.string().nullable(),
    status: z.enum(["active", "expired", "revoked"]),
  })
  .openapi("ApiKey");

export const CreatedKeySchema = KeySchema.extend({
  apiKey: z.string().openapi({ description: "The key itself. Shown once: store it now, it cannot be retrieved again." }),
}).openapi("CreatedApiKey");

interface Dated {
  createdAt: Date;
  expiresAt: Date | null;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

/** JSON form of a key view: dates as ISO 8601 strings. */
export function serializeKey<T extends Dated>(key: T) {
  return {
    ...key,
    createdAt: key.createdAt.toISOString(),
    expiresAt: key.expiresAt?.toISOString() ?? null,
    lastUsedAt: key.lastUsedAt?.toISOString() ?? null,
    revokedAt: key.revokedAt?.toISOString() ?? null,
  };
}
