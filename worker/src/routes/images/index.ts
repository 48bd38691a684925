import type { Hook } from "@hono/zod-openapi";
import { notFound } from "../../delivery/response";
import { parseTransformOptions } from "../../images/transform/options";
import type { HonoEnv } from "../../middleware/env";
import { createRouter } from "../create-app";
import * as handlers from "./images.handlers";
import * as routes from "./images.routes";

// Any malformed path is simply not an image: 404, and it never reaches storage. A malformed
// query (a repeated option) gets the transformation parser's 400 naming the option.
const notAnImage: Hook<unknown, HonoEnv, string, undefined> = (result, c) => {
  if (result.success) return undefined;
  if (result.target === "query") parseTransformOptions(new URL(c.req.url).searchParams, { unknownParameters: "ignore" });
  notFound();
};

// `img` is not a category, so the `img/` routes come first: the stored image's route would
// refuse their paths as no image.

/** `/api/images/{org}/{project}/img/{id | @alias}` and `/api/images/{org}/{project}/{category}/{file}`: served by both Workers. */
export const imageRoutes = createRouter()
  .openapi(routes.imageRefRoute, handlers.getImageByRef, notAnImage)
  .openapi(routes.imageRoute, handlers.getImage, notAnImage);

/** `/{org}/{project}/img/{id | @alias}` and `/{org}/{project}/{category}/{file}`: the short URLs of the CDN host, on the delivery Worker only. */
export const cdnImageRoutes = createRouter()
  .openapi(routes.cdnImageRefRoute, handlers.getCdnImageByRef, notAnImage)
  .openapi(routes.cdnImageRoute, handlers.getCdnImage, notAnImage);
