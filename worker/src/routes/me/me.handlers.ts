import { authorize } from "../../middleware/access";
import { budgetViews } from "../../services/budgets";
import type { AppRouteHandler } from "../create-app";
import type { meRoute } from "./me.routes";

export const getMe: AppRouteHandler<typeof meRoute> = async (c) => {
  const caller = await authorize(c);
  const { quota } = caller;
  // Read only when a budget is set: without one, the key check stays the only round trip.
  const budgets = await budgetViews(c.var.services.db, caller);
  return c.json(
    {
      success: true as const,
      data: {
        keyId: caller.keyId,
        type: caller.type,
        name: caller.name,
        prefix: caller.prefix,
        organization: caller.organization,
        project: caller.project,
        quota: {
          limit: quota.limit,
          used: Math.min(quota.used, quota.limit),
          remaining: Math.max(0, quota.limit - quota.used),
          resetAt: quota.resetAt.toISOString(),
        },
        budgets,
      },
    },
    200,
  );
};
