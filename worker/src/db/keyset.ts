import { type SQL, sql } from "drizzle-orm";
import type { PgColumn, PgTable } from "drizzle-orm/pg-core";

/**
 * Newest-first keyset pagination on (created_at, id), shared by every listing. The cursor is the
 * id of the last row of the previous page, compared through the stored timestamp itself: a
 * cursor carrying a JS Date would lose PostgreSQL's microseconds and skip or repeat rows.
 */
export function olderThan(table: PgTable & { createdAt: PgColumn; id: PgColumn }, cursor: string): SQL {
  return sql`(${table.createdAt}, ${table.id}) < (select c.created_at, c.id from ${table} c where c.id = ${cursor})`;
}

/** Splits the `limit + 1` rows a listing fetched into the page and the cursor of the next one. */
export function toPage<T>(rows: T[], limit: number, idOf: (row: T) => string): { page: T[]; nextCursor: string | null } {
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return { page, nextCursor: rows.length > limit && last ? idOf(last) : null };
}
