import { buildBaseApp } from "./base-app";
import { CDN_IMAGE_URL_PATTERN, IMAGE_URL_PATTERN } from "./delivery/cache-first";
import type { ModelFactory } from "./middleware/services";
import { healthRoutes } from "./routes/health";
import { cdnImageRoutes, imageRoutes } from "./routes/images";

/** Delivery serves stored images and never generates: no route it mounts asks for a model. */
const noModels: ModelFactory = () => {
  throw new Error("The image delivery Worker has no image model or prompt enhancer");
};

/**
 * The image delivery Worker (`wrangler.delivery.toml`) on the image CDN host (PUBLIC_CDN_URL):
 * image GET/HEAD at the short URL `/{org}/{project}/{category}/{file}` and the shallow `/health`,
 * nothing else. It also answers the API's image URLs (`/api/images/{org}/...`, never the API's
 * list, delete or signing endpoints), so URLs handed out before PUBLIC_CDN_URL was set keep
 * working when a host moves to it. Image requests skip the static-assets router that `[assets]`
 * puts in front of every request to the API Worker, and load a bundle without the API's other
 * routes, its OpenAPI document or the model SDK. It reads the same database, storage and edge
 * cache, under the same cache keys (see imageUrlBase), so the API's purges reach what it cached.
 */
export function buildDeliveryApp() {
  const app = buildBaseApp(noModels, [IMAGE_URL_PATTERN, CDN_IMAGE_URL_PATTERN]);
  app.route("/", healthRoutes);
  app.route("/", imageRoutes);
  app.route("/", cdnImageRoutes);
  return app;
}
