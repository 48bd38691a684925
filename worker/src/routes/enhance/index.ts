import { createRouter } from "../create-app";
import * as handlers from "./enhance.handlers";
import * as routes from "./enhance.routes";

export const enhanceRoutes = createRouter().openapi(routes.enhanceRoute, handlers.enhance);
