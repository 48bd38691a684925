import { createRouter } from "../create-app";
import * as handlers from "./quotes.handlers";
import * as routes from "./quotes.routes";

export const quoteRoutes = createRouter().openapi(routes.createQuoteRoute, handlers.createQuote);
