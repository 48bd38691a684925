import { z } from "@hono/zod-openapi";
import { isWholeCents, MAX_MONTHLY_BUDGET_USD } from "../../domain/budget";

/** A monthly budget as clients write it: dollars, whole cents, or null for none. */
export const MonthlyBudgetUsdSchema = z
  .number()
  .positive()
  .max(MAX_MONTHLY_BUDGET_USD)
  .refine(isWholeCents, "must be whole cents (at most 2 decimals)")
  .nullable()
  .openapi({
    description: `Monthly spending cap in USD (whole cents, up to ${MAX_MONTHLY_BUDGET_USD}); null for none. Resets at the start of each calendar month (UTC). A generation whose quoted upper bound would cross it is refused with 402 BUDGET_EXCEEDED.`,
    example: 25,
  });
