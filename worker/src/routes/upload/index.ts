import { createRouter } from "../create-app";
import * as handlers from "./upload.handlers";
import * as routes from "./upload.routes";

export const uploadRoutes = createRouter().openapi(routes.uploadRoute, handlers.uploadImage);
