/**
 * The v1 list queries as the services read them: shared by the top-level lists
 * (GET /api/v1/generations, GET /api/v1/images) and a flow's sub-lists, so both filter alike.
 */
import { ALIAS_PATTERN } from "../../domain/aliases";
import { AppError } from "../../lib/errors";
import type { GenerationView } from "../../services/v1-generations";
import type { V1ImageListQuery } from "../../services/v1-images";

/** The generation filters; v1's `success` is a succeeded generation. */
export function generationListFilter<Query extends { status?: "pending" | "processing" | "success" | "failed" }>(
  query: Query,
): Omit<Query, "status"> & { status?: GenerationView["status"] } {
  const status = query.status === "success" ? "succeeded" : query.status;
  return { ...query, status };
}

/** The image filters: 400 ALIAS_FORMAT_CHECK when `alias` is not one. */
export function imageListFilter<Query extends Omit<V1ImageListQuery, "includeDeleted"> & { includeDeleted: "true" | "false" }>(
  query: Query,
): Omit<Query, "includeDeleted"> & { includeDeleted: boolean } {
  if (query.alias !== undefined && !ALIAS_PATTERN.test(query.alias)) {
    throw new AppError("ALIAS_FORMAT_CHECK", `alias: "${query.alias}" is not an alias`, {
      errors: [{ field: "alias", message: `"${query.alias}" is not an alias` }],
    });
  }
  return { ...query, includeDeleted: query.includeDeleted === "true" };
}
