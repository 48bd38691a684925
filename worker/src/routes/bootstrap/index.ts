import { createRouter } from "../create-app";
import * as handlers from "./bootstrap.handlers";
import * as routes from "./bootstrap.routes";

export const bootstrapRoutes = createRouter()
  .openapi(routes.bootstrapRoute, handlers.bootstrap)
  .openapi(routes.bootstrapStatusRoute, handlers.getBootstrapStatus);
