import { notFound } from "../../delivery/response";
import { parseTransformOptions } from "../../images/transform/options";
import { createRouter } from "../create-app";
import * as handlers from "./images.handlers";
import * as routes from "./images.routes";

export const imageRoutes = createRouter().openapi(
  routes.imageRoute,
  handlers.getImage,
  // Any malformed path is simply not an image: 404, and it never reaches storage. A malformed
  // query (a repeated option) gets the transformation parser's 400 naming the option.
  (result, c) => {
    if (result.success) return undefined;
    if (result.target === "query") parseTransformOptions(new URL(c.req.url).searchParams, { unknownParameters: "ignore" });
    notFound();
  },
);
