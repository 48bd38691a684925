import { createRouter } from "../create-app";
import * as handlers from "./text-to-image.handlers";
import * as routes from "./text-to-image.routes";

export const textToImageRoutes = createRouter().openapi(routes.textToImageRoute, handlers.textToImage);
