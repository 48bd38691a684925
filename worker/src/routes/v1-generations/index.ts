import { createRouter } from "../create-app";
import * as handlers from "./v1-generations.handlers";
import * as routes from "./v1-generations.routes";

export const v1GenerationRoutes = createRouter()
  .openapi(routes.createGenerationRoute, handlers.createGeneration)
  .openapi(routes.listGenerationsRoute, handlers.listGenerations)
  .openapi(routes.getGenerationRoute, handlers.getGeneration)
  .openapi(routes.deleteGenerationRoute, handlers.deleteGeneration)
  .openapi(routes.updateGenerationRoute, handlers.updateGeneration)
  .openapi(routes.regenerateGenerationRoute, handlers.regenerateGeneration)
  .openapi(routes.cancelGenerationRoute, handlers.cancelGeneration);
