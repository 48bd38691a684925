import { createRoute, z } from "@hono/zod-openapi";
import { commonErrorResponses, keyErrorResponses, keySecurity, problemResponse, successEnvelope } from "../../lib/openapi";
import { access } from "../../middleware/access";

const StripeCustomerIdSchema = z
  .string()
  .regex(/^cus_[A-Za-z0-9]{1,250}$/, "must be a Stripe customer id such as cus_NffrFeUfNV2Hib")
  .nullable()
  .openapi({
    description: "The Stripe customer billed for the organization's usage; null for none",
    example: "cus_NffrFeUfNV2Hib",
  });

const UpdateOrganizationBody = z.object({ stripeCustomerId: StripeCustomerIdSchema }).strict();

export const updateOrganizationRoute = createRoute({
  method: "patch",
  path: "/api/admin/organizations/{id}",
  tags: ["Keys"],
  operationId: "updateOrganization",
  summary: "Set the Stripe customer an organization's usage is billed to",
  description:
    "With the billing export on (`STRIPE_SECRET_KEY` and `STRIPE_METER_EVENT_NAME`), the scheduled maintenance sends the organization's billable usage to Stripe as meter events for this customer. Usage of an organization without one is kept unsent, and sent once it has one (if at most 34 days old).",
  middleware: [access.master()],
  security: keySecurity,
  request: {
    params: z.object({ id: z.string().uuid() }),
    body: { content: { "application/json": { schema: UpdateOrganizationBody } }, required: true },
  },
  responses: {
    200: {
      description: "The organization",
      content: {
        "application/json": {
          schema: successEnvelope(z.object({ id: z.string().uuid(), slug: z.string(), stripeCustomerId: z.string().nullable() })),
        },
      },
    },
    400: problemResponse("The id is not a UUID, or the body is invalid"),
    404: problemResponse("No such organization"),
    ...keyErrorResponses,
    ...commonErrorResponses,
  },
});
