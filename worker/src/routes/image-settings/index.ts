import { createRouter } from "../create-app";
import * as handlers from "./image-settings.handlers";
import * as routes from "./image-settings.routes";

export const imageSettingsRoutes = createRouter()
  .openapi(routes.getRoute, handlers.getImageSettings)
  .openapi(routes.putRoute, handlers.setImageSettings);
