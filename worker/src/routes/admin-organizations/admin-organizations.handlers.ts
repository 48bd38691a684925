import { clientInfo } from "../../lib/client-address";
import { AppError } from "../../lib/errors";
import { authorize } from "../../middleware/access";
import { recordAudit } from "../../services/audit";
import { setStripeCustomer } from "../../services/organizations";
import type { AppRouteHandler } from "../create-app";
import type { updateOrganizationRoute } from "./admin-organizations.routes";

export const updateOrganization: AppRouteHandler<typeof updateOrganizationRoute> = async (c) => {
  const caller = await authorize(c);
  const { db, defer } = c.var.services;
  const { id } = c.req.valid("param");
  const { stripeCustomerId } = c.req.valid("json");
  const organization = await setStripeCustomer(db, id, stripeCustomerId);
  if (!organization) throw new AppError("ORGANIZATION_NOT_FOUND", `No organization has id ${id}`);
  defer(() =>
    recordAudit(db, {
      action: "organization.updated",
      actorKeyId: caller.keyId,
      target: { type: "organization", id: organization.id },
      organizationId: organization.id,
      client: clientInfo(c),
      metadata: { stripeCustomerId: organization.stripeCustomerId },
    }),
  );
  return c.json({ success: true as const, data: organization }, 200);
};
