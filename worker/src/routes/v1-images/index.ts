import { createRouter } from "../create-app";
import * as handlers from "./v1-images.handlers";
import * as routes from "./v1-images.routes";

export const v1ImageRoutes = createRouter()
  .openapi(routes.uploadRoute, handlers.uploadImage)
  .openapi(routes.listRoute, handlers.listImages)
  .openapi(routes.resolveRoute, handlers.resolveAlias)
  .openapi(routes.getRoute, handlers.getImage)
  .openapi(routes.updateRoute, handlers.updateImage)
  .openapi(routes.aliasRoute, handlers.setAlias)
  .openapi(routes.deleteRoute, handlers.deleteImage);
