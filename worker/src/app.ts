import { license, version } from "../../package.json";
import { buildBaseApp } from "./base-app";
import { commonErrorResponses, licenseObject, publicSecurity, securitySchemes } from "./lib/openapi";
import { access } from "./middleware/access";
import { createModels } from "./providers";
import { adminAuditRoutes } from "./routes/admin-audit";
import { adminKeyRoutes } from "./routes/admin-keys";
import { adminOrganizationRoutes } from "./routes/admin-organizations";
import { adminProjectRoutes } from "./routes/admin-projects";
import { bootstrapRoutes } from "./routes/bootstrap";
import { enhanceRoutes } from "./routes/enhance";
import { generateRoutes } from "./routes/generate";
import { deepHealthRoutes, healthRoutes } from "./routes/health";
import { imageManagementRoutes } from "./routes/image-management";
import { imageSettingsRoutes } from "./routes/image-settings";
import { imageRoutes } from "./routes/images";
import { infoRoutes } from "./routes/info";
import { meRoutes } from "./routes/me";
import { quoteRoutes } from "./routes/quotes";
import { textToImageRoutes } from "./routes/text-to-image";
import { uploadRoutes } from "./routes/upload";
import { usageRoutes } from "./routes/usage";
import { v1FlowRoutes } from "./routes/v1-flows";
import { v1GenerationRoutes } from "./routes/v1-generations";
import { v1ImageRoutes } from "./routes/v1-images";
import { v1WebhookRoutes } from "./routes/v1-webhooks";

/** Builds the Banatie API: every resource's routes and the OpenAPI document. */
export function buildApp() {
  const app = buildBaseApp(createModels);
  app.route("/", healthRoutes);
  app.route("/", deepHealthRoutes);
  app.route("/", infoRoutes);
  app.route("/", bootstrapRoutes);
  app.route("/", adminKeyRoutes);
  app.route("/", adminAuditRoutes);
  app.route("/", adminProjectRoutes);
  app.route("/", adminOrganizationRoutes);
  app.route("/", meRoutes);
  app.route("/", textToImageRoutes);
  app.route("/", generateRoutes);
  app.route("/", quoteRoutes);
  app.route("/", enhanceRoutes);
  app.route("/", usageRoutes);
  app.route("/", uploadRoutes);
  app.route("/", imageManagementRoutes);
  app.route("/", imageSettingsRoutes);
  app.route("/", v1ImageRoutes);
  app.route("/", imageRoutes);
  app.route("/", v1FlowRoutes);
  app.route("/", v1GenerationRoutes);
  app.route("/", v1WebhookRoutes);

  app.use("/api/openapi.json", access.public());
  app.openAPIRegistry.registerComponent("securitySchemes", "ApiKeyHeader", securitySchemes.ApiKeyHeader);
  app.openAPIRegistry.registerComponent("securitySchemes", "BearerKey", securitySchemes.BearerKey);
  // The document describes itself too, so that every answer of the API is in it.
  app.openAPIRegistry.registerPath({
    method: "get",
    path: "/api/openapi.json",
    tags: ["System"],
    operationId: "getOpenApiDocument",
    summary: "This OpenAPI 3.1 document",
    security: publicSecurity,
    responses: {
      200: { description: "The document", content: { "application/json": { schema: { type: "object" } } } },
      ...commonErrorResponses,
    },
  });
  app.doc31("/api/openapi.json", (c) => ({
    openapi: "3.1.0",
    info: {
      title: "Banatie API",
      version,
      description: "Image generation for developers: prompt enhancement, Gemini image generation, storage and delivery.",
      license: licenseObject(license),
    },
    // The origin that served the document is the API's: local, staging or production alike.
    servers: [{ url: new URL(c.req.url).origin, description: "This Banatie deployment" }],
    tags: [
      { name: "System", description: "Health and platform information" },
      { name: "Keys", description: "API keys, bootstrap and the audit trail" },
      { name: "Generation", description: "Text-to-image and prompt enhancement" },
      { name: "Images", description: "Stored images" },
      { name: "Usage", description: "What was used and spent, by day" },
      { name: "Flows", description: "Banatie v1: chains of generations and uploads sharing a flow id, and their aliases" },
      { name: "Webhooks", description: "Banatie v1: signed notifications of generation events, their settings and deliveries" },
      { name: "Generations (v1)", description: "Banatie's v1 generations: references, aliases and flows" },
    ],
  }));
  return app;
}
