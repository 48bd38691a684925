import { createRouter } from "../create-app";
import * as handlers from "./info.handlers";
import * as routes from "./info.routes";

export const infoRoutes = createRouter().openapi(routes.infoRoute, handlers.getInfo);
