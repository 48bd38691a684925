import { createRouter } from "../create-app";
import * as handlers from "./admin-keys.handlers";
import * as routes from "./admin-keys.routes";

export const adminKeyRoutes = createRouter()
  .openapi(routes.createKeyRoute, handlers.createKey)
  .openapi(routes.listKeysRoute, handlers.listKeys)
  .openapi(routes.revokeKeyRoute, handlers.revokeKey)
  .openapi(routes.updateKeyRoute, handlers.updateKey);
