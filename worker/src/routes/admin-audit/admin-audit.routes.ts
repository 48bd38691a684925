import { createRoute, z } from "@hono/zod-openapi";
import { AUDIT_ACTIONS } from "../../domain/audit";
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from "../../domain/limits";
import { commonErrorResponses, keyErrorResponses, keySecurity, listEnvelope, problemResponse } from "../../lib/openapi";
import { access } from "../../middleware/access";

const AuditEventSchema = z
  .object({
    id: z.string().uuid(),
    action: z.enum(AUDIT_ACTIONS),
    actorKeyId: z.string().uuid().nullable(),
    targetType: z.string().nullable(),
    targetId: z.string().nullable(),
    organizationId: z.string().uuid().nullable(),
    projectId: z.string().uuid().nullable(),
    ip: z.string().nullable(),
    userAgent: z.string().nullable(),
    metadata: z.record(z.string(), z.unknown()),
    createdAt: z.string().datetime(),
  })
  .openapi("AuditEvent");

const AuditQuery = z
  .object({
    action: z.enum(AUDIT_ACTIONS).optional(),
    keyId: z.string().uuid().optional().openapi({ description: "Events by this key or about it" }),
    from: z.string().datetime({ offset: true }).optional().openapi({ description: "Events at or after this time (ISO 8601)" }),
    to: z.string().datetime({ offset: true }).optional().openapi({ description: "Events before this time (ISO 8601)" }),
    limit: z.coerce.number().int().min(1).max(MAX_PAGE_SIZE).default(DEFAULT_PAGE_SIZE),
    cursor: z.string().uuid().optional().openapi({ description: "`pagination.nextCursor` of the previous page" }),
  })
  .refine((query) => !query.from || !query.to || new Date(query.from) < new Date(query.to), {
    path: ["to"],
    message: "must be after from",
  });

export const listAuditRoute = createRoute({
  method: "get",
  path: "/api/admin/audit",
  tags: ["Keys"],
  operationId: "listAuditEvents",
  summary: "The audit trail, newest first",
  description: "Key creation, bootstrap, revocation, exceeded quotas and failed authentication, with client IP and user agent.",
  middleware: [access.master()],
  security: keySecurity,
  request: { query: AuditQuery },
  responses: {
    200: { description: "A page of events", content: { "application/json": { schema: listEnvelope(AuditEventSchema) } } },
    400: problemResponse("Invalid filter"),
    ...keyErrorResponses,
    ...commonErrorResponses,
  },
});
