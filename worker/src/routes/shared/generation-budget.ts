/** The monthly budget of a generating request: its reservation before the model call, and its headers. */
import type { Context } from "hono";
import type { ProjectCaller } from "../../lib/access-types";
import { clientInfo } from "../../lib/client-address";
import type { HonoEnv } from "../../middleware/env";
import { budgetHeaders, budgetSettlement, reserveBudget } from "../../services/budgets";
import type { GenerationBudget } from "../../services/generation";
import { type QuoteRequest, quoteGeneration } from "../../services/quotes";

/** Sent when the key or its project has a monthly budget: what is left of the tighter one. */
export const budgetResponseHeaders = {
  "X-Budget-Scope": {
    description: "The budget that limits this key: key or project",
    schema: { type: "string" },
  },
  "X-Budget-Limit-Usd": { description: "That monthly budget, in USD", schema: { type: "string" } },
  "X-Budget-Remaining-Usd": {
    description: "What is left of it, in USD, with this request's quoted upper bound held until it settles",
    schema: { type: "string" },
  },
  "X-Budget-Reset": {
    description: "When the budget resets: the start of the next calendar month (UTC)",
    schema: { type: "string", format: "date-time" },
  },
} as const;

/**
 * With a monthly budget on the key or its project, reserves the request's quoted upper bound
 * (one more database round trip, before any model call) or refuses it with 402; says in the
 * headers what is left. Without a budget, costs nothing.
 */
export async function reserveForBudget(
  c: Context<HonoEnv>,
  caller: ProjectCaller,
  request: QuoteRequest,
): Promise<GenerationBudget | undefined> {
  if (caller.budgets.key === null && caller.budgets.project === null) return undefined;
  const { db, defer } = c.var.services;
  const quote = quoteGeneration(c.var.services, request);
  const reservation = await reserveBudget(db, caller, quote.usdMicros);
  if (!reservation) return undefined;
  for (const [name, value] of Object.entries(budgetHeaders(reservation.standings, reservation.resetAt))) c.header(name, value);
  return {
    reservationId: reservation.id,
    settlement: budgetSettlement({ db, defer }, reservation, { organizationId: caller.organization.id, client: clientInfo(c) }),
  };
}
