import { createRouter } from "../create-app";
import * as handlers from "./health.handlers";
import * as routes from "./health.routes";

export const healthRoutes = createRouter().openapi(routes.healthRoute, handlers.getHealth);
