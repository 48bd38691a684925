import { createRouter } from "../create-app";
import * as handlers from "./admin-audit.handlers";
import * as routes from "./admin-audit.routes";

export const adminAuditRoutes = createRouter().openapi(routes.listAuditRoute, handlers.listAuditEvents);
