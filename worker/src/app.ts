import { bodyLimit } from "hono/body-limit";
import { requestId } from "hono/request-id";
import { version } from "../../package.json";
import { MAX_JSON_BODY_BYTES } from "./domain/limits";
import { createApp } from "./lib/create-app";
import { AppError } from "./lib/errors";
import { securitySchemes } from "./lib/openapi";
import { access, denyUndeclaredAccess } from "./middleware/access";
import { services } from "./middleware/services";
import { adminAuditRoutes } from "./routes/admin-audit";
import { adminKeyRoutes } from "./routes/admin-keys";
import { adminProjectRoutes } from "./routes/admin-projects";
import { bootstrapRoutes } from "./routes/bootstrap";
import { enhanceRoutes } from "./routes/enhance";
import { healthRoutes } from "./routes/health";
import { imageManagementRoutes } from "./routes/image-management";
import { imageSettingsRoutes } from "./routes/image-settings";
import { imageRoutes } from "./routes/images";
import { infoRoutes } from "./routes/info";
import { meRoutes } from "./routes/me";
import { textToImageRoutes } from "./routes/text-to-image";
import { uploadRoutes } from "./routes/upload";

const jsonBodyLimit = bodyLimit({
  maxSize: MAX_JSON_BODY_BYTES,
  onError: () => {
    throw new AppError("PAYLOAD_TOO_LARGE", `Request bodies are limited to ${MAX_JSON_BODY_BYTES} bytes`);
  },
});

/** Builds the Banatie API: middleware, every resource's routes and the OpenAPI document. */
export function buildApp() {
  const app = createApp();
  // A caller's id is kept only when it is at most 128 of [A-Za-z0-9_=-], so it is safe to log and echo.
  app.use(
    "*",
    requestId({
      headerName: "X-Request-Id",
      limitLength: 128,
      generator: () => crypto.randomUUID(),
    }),
  );
  // JSON bodies are small; uploads (multipart) enforce their own limit while streaming.
  app.use("/api/*", async (c, next) => {
    if (c.req.header("content-type")?.startsWith("multipart/form-data")) return next();
    return jsonBodyLimit(c, next);
  });
  app.use("*", services);
  app.use("*", denyUndeclaredAccess);

  app.route("/", healthRoutes);
  app.route("/", infoRoutes);
  app.route("/", bootstrapRoutes);
  app.route("/", adminKeyRoutes);
  app.route("/", adminAuditRoutes);
  app.route("/", adminProjectRoutes);
  app.route("/", meRoutes);
  app.route("/", textToImageRoutes);
  app.route("/", enhanceRoutes);
  app.route("/", uploadRoutes);
  app.route("/", imageManagementRoutes);
  app.route("/", imageSettingsRoutes);
  app.route("/", imageRoutes);

  app.use("/api/openapi.json", access.public());
  app.openAPIRegistry.registerComponent("securitySchemes", "ApiKeyHeader", securitySchemes.ApiKeyHeader);
  app.openAPIRegistry.registerComponent("securitySchemes", "BearerKey", securitySchemes.BearerKey);
  app.doc31("/api/openapi.json", {
    openapi: "3.1.0",
    info: {
      title: "Banatie API",
      version,
      description: "Image generation for developers: prompt enhancement, Gemini image generation, storage and delivery.",
    },
    tags: [
      { name: "System", description: "Health and platform information" },
      { name: "Keys", description: "API keys, bootstrap and the audit trail" },
      { name: "Generation", description: "Text-to-image and prompt enhancement" },
      { name: "Images", description: "Stored images" },
    ],
  });
  return app;
}
