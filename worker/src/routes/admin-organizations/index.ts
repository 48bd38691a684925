import { createRouter } from "../create-app";
import * as handlers from "./admin-organizations.handlers";
import * as routes from "./admin-organizations.routes";

export const adminOrganizationRoutes = createRouter().openapi(routes.updateOrganizationRoute, handlers.updateOrganization);
