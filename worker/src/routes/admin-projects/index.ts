import { createRouter } from "../create-app";
import * as handlers from "./admin-projects.handlers";
import * as routes from "./admin-projects.routes";

export const adminProjectRoutes = createRouter().openapi(routes.updateProjectRoute, handlers.updateProject);
