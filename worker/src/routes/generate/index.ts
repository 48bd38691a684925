import { createRouter } from "../create-app";
import * as handlers from "./generate.handlers";
import * as routes from "./generate.routes";

/** The seed-era `POST /api/generate`: a prompt and up to 3 reference files, in one multipart request. */
export const generateRoutes = createRouter().openapi(routes.generateRoute, handlers.generate);
