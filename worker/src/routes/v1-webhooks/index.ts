import { createRouter } from "../create-app";
import * as handlers from "./v1-webhooks.handlers";
import * as routes from "./v1-webhooks.routes";

export const v1WebhookRoutes = createRouter()
  .openapi(routes.getRoute, handlers.getWebhookSettings)
  .openapi(routes.putRoute, handlers.setWebhookSettings)
  .openapi(routes.rotateSecretRoute, handlers.rotateWebhookSecretHandler)
  .openapi(routes.listDeliveriesRoute, handlers.listWebhookDeliveries)
  .openapi(routes.redeliverRoute, handlers.redeliverWebhook);
