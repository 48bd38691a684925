import { buildBaseApp } from "./base-app";
import type { ModelFactory } from "./middleware/services";
import { healthRoutes } from "./routes/health";
import { imageRoutes } from "./routes/images";

/** Delivery serves stored images and never generates: no route it mounts asks for a model. */
const noModels: ModelFactory = () => {
  throw new Error("The image delivery Worker has no image model or prompt enhancer");
};

/**
 * The image delivery Worker (`wrangler.delivery.toml`): image URLs and `/health`, nothing else.
 * Routed in front of the API Worker for `/api/images/*`, or on an image host named by
 * PUBLIC_BASE_URL, image requests skip the static-assets router that `[assets]` puts in front of
 * every request to the API Worker, and load a bundle without the API's other routes, its OpenAPI
 * document or the model SDK. It reads the same database, storage and edge cache, so the API's
 * purges reach what it cached.
 */
export function buildDeliveryApp() {
  const app = buildBaseApp(noModels);
  app.route("/", healthRoutes);
  app.route("/", imageRoutes);
  return app;
}
