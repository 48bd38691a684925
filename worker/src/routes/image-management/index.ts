import { createRouter } from "../create-app";
import * as handlers from "./image-management.handlers";
import * as routes from "./image-management.routes";

export const imageManagementRoutes = createRouter()
  .openapi(routes.listGeneratedRoute, handlers.listGenerated)
  .openapi(routes.listUploadsRoute, handlers.listUploads)
  .openapi(routes.temporaryUrlRoute, handlers.createTemporaryUrl)
  .openapi(routes.transformUrlRoute, handlers.createTransformUrl)
  .openapi(routes.deleteRoute, handlers.deleteImage);
