import { createRouter } from "../create-app";
import * as handlers from "./usage.handlers";
import * as routes from "./usage.routes";

export const usageRoutes = createRouter()
  .openapi(routes.getUsageRoute, handlers.getUsage)
  .openapi(routes.exportUsageRoute, handlers.exportUsage);
