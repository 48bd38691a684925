import { pagination } from "../../lib/openapi";
import { authorize } from "../../middleware/access";
import { listAudit } from "../../services/audit";
import type { AppRouteHandler } from "../create-app";
import type { listAuditRoute } from "./admin-audit.routes";

export const listAuditEvents: AppRouteHandler<typeof listAuditRoute> = async (c) => {
  await authorize(c);
  const query = c.req.valid("query");
  const { events, nextCursor } = await listAudit(c.var.services.db, {
    ...query,
    from: query.from ? new Date(query.from) : undefined,
    to: query.to ? new Date(query.to) : undefined,
  });
  return c.json(
    {
      success: true as const,
      data: events.map((event) => ({ ...event, createdAt: event.createdAt.toISOString() })),
      pagination: pagination(query.limit, nextCursor),
    },
    200,
  );
};
