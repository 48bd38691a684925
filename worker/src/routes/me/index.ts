import { createRouter } from "../create-app";
import * as handlers from "./me.handlers";
import * as routes from "./me.routes";

export const meRoutes = createRouter().openapi(routes.meRoute, handlers.getMe);
