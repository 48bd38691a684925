import { index, integer, pgEnum, pgTable, primaryKey, text, timestamp, uuid } from "drizzle-orm/pg-core";
import { apiKeys } from "./api-keys";
import { createdAt } from "./columns";

export const idempotencyStatus = pgEnum("idempotency_status", ["in_progress", "done"]);

/**
 * One row per `Idempotency-Key` a key sent to a spending endpoint (services/idempotency.ts): the
 * request it was first used with, and once that request ended, its answer, replayed until
 * `expires_at`. An `in_progress` row past `locked_until` belongs to a request that ended without
 * storing an answer, so a retry may take it over.
 */
export const idempotencyKeys = pgTable(
  "idempotency_keys",
  {
    apiKeyId: uuid()
      .notNull()
      .references(() => apiKeys.id, { onDelete: "cascade" }),
    key: text().notNull(),
    /** SHA-256 (hex) of the method, path and body of the first request. */
    fingerprint: text().notNull(),
    status: idempotencyStatus().notNull().default("in_progress"),
    lockedUntil: timestamp({ withTimezone: true }).notNull(),
    responseStatus: integer(),
    /**
     * The answer's replayed headers and body, sealed (AES-256-GCM) under a key derived from the
     * API key that asked, which the database holds only hashed: `v1.` and base64 of IV and
     * ciphertext (services/idempotency-seal.ts).
     */
    responseSealed: text(),
    createdAt: createdAt(),
    expiresAt: timestamp({ withTimezone: true }).notNull(),
  },
  (table) => [
    primaryKey({ columns: [table.apiKeyId, table.key] }),
    // Maintenance prunes expired records, oldest first, across all keys.
    index("idempotency_keys_expires_at_idx").on(table.expiresAt),
  ],
);
