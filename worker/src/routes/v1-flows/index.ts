import { createRouter } from "../create-app";
import * as handlers from "./v1-flows.handlers";
import * as routes from "./v1-flows.routes";

/** Banatie's v1 flows (`/api/v1/flows`), regenerating a flow's newest generation included. */
export const v1FlowRoutes = createRouter()
  .openapi(routes.listRoute, handlers.listFlowsHandler)
  .openapi(routes.getRoute, handlers.getFlowHandler)
  .openapi(routes.listGenerationsRoute, handlers.listFlowGenerationsHandler)
  .openapi(routes.listImagesRoute, handlers.listFlowImagesHandler)
  .openapi(routes.putAliasesRoute, handlers.mergeAliasesHandler)
  .openapi(routes.deleteAliasRoute, handlers.removeAliasHandler)
  .openapi(routes.regenerateRoute, handlers.regenerateFlowHandler)
  .openapi(routes.deleteRoute, handlers.deleteFlowHandler);
