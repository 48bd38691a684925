import { createRouter } from "../create-app";
import * as handlers from "./health.handlers";
import * as routes from "./health.routes";

/** The shallow `/health`, on both Workers. */
export const healthRoutes = createRouter().openapi(routes.healthRoute, handlers.getHealth);

/** The deep check, on the API Worker only: it needs a master key. */
export const deepHealthRoutes = createRouter().openapi(routes.deepHealthRoute, handlers.getDeepHealth);
