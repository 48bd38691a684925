import { createRoute, z } from "@hono/zod-openapi";
import { purgeImages } from "../delivery/edge-cache";
import { imageOrigin } from "../delivery/image-urls";
import type { ProjectImageSettings } from "../domain/image-settings";
import { MAX_PROJECT_PRESETS, MAX_WATERMARK_PIXELS } from "../domain/limits";
import { GRAVITIES, hasTransformOptions, PRESET_NAME } from "../images/transform/options";
import { BUILT_IN_PRESETS, parsePresetDefinition } from "../images/transform/presets";
import { clientInfo } from "../lib/client-address";
import { AppError } from "../lib/errors";
import { commonErrorResponses, keyErrorResponses, keySecurity, problemResponse, successEnvelope } from "../lib/openapi";
import { access, authorizeProject } from "../middleware/access";
import { recordAudit } from "../services/audit";
import { readImageSettings, writeImageSettings } from "../services/image-settings";
import { variantsOf } from "../services/image-variants";
import { findProjectImage } from "../services/images";
import { createRouter } from "./create-app";

const Watermark = z
  .object({
    imageId: z.string().uuid().openapi({ description: "One of the project's images (a PNG with transparency works best)" }),
    position: z.enum(GRAVITIES).default("southeast"),
    opacity: z.number().min(0).max(1).default(0.5),
    scale: z.number().min(0.01).max(1).default(0.2).openapi({ description: "Width as a fraction of the output's width" }),
    margin: z.number().int().min(0).max(1000).default(16).openapi({ description: "Pixels from the edges" }),
  })
  .strict();

const SettingsBody = z
  .object({
    presets: z
      .record(z.string().regex(PRESET_NAME), z.string().min(1).max(200))
      .default({})
      .openapi({ description: `Up to ${MAX_PROJECT_PRESETS} named option sets`, example: { card: "w=600&h=400&fit=cover" } }),
    watermark: Watermark.nullable().default(null),
    watermarkByDefault: z.boolean().default(false),
  })
  .strict();

const SettingsView = z.object({
  presets: z.record(z.string(), z.string()),
  builtInPresets: z.record(z.string(), z.string()),
  watermark: Watermark.extend({}).nullable(),
  watermarkByDefault: z.boolean(),
});

function view(settings: ProjectImageSettings) {
  const watermark = settings.watermark && {
    imageId: settings.watermark.imageId,
    position: settings.watermark.position as (typeof GRAVITIES)[number],
    opacity: settings.watermark.opacity,
    scale: settings.watermark.scale,
    margin: settings.watermark.margin,
  };
  return {
    presets: settings.presets,
    builtInPresets: BUILT_IN_PRESETS,
    watermark,
    watermarkByDefault: settings.watermarkByDefault,
  };
}

const getRoute = createRoute({
  method: "get",
  path: "/api/project/image-settings",
  tags: ["Images"],
  operationId: "getImageSettings",
  summary: "The project's transformation presets and watermark",
  middleware: [access.project({ rateLimited: false })],
  security: keySecurity,
  responses: {
    200: { description: "The settings", content: { "application/json": { schema: successEnvelope(SettingsView) } } },
    ...keyErrorResponses,
    ...commonErrorResponses,
  },
});

const putRoute = createRoute({
  method: "put",
  path: "/api/project/image-settings",
  tags: ["Images"],
  operationId: "setImageSettings",
  summary: "Replace the project's transformation presets and watermark",
  description:
    "Presets are unsigned shortcuts (`?preset=card`); the watermark is one of the project's images, applied with `watermark=1` or to every transformed response when watermarkByDefault is true. Saving purges the project's cached variants.",
  middleware: [access.project({ rateLimited: false })],
  security: keySecurity,
  request: { body: { content: { "application/json": { schema: SettingsBody } }, required: true } },
  responses: {
    200: { description: "The settings", content: { "application/json": { schema: successEnvelope(SettingsView) } } },
    400: problemResponse("An invalid preset or watermark, each named in `errors`; nothing is saved"),
    ...keyErrorResponses,
    ...commonErrorResponses,
  },
});

function invalidField(field: string, message: string): never {
  throw new AppError("VALIDATION_ERROR", `${field}: ${message}`, { errors: [{ field, message }] });
}

export const imageSettingsRoutes = createRouter()
  .openapi(getRoute, async (c) => {
    const caller = await authorizeProject(c);
    const settings = await readImageSettings(c.var.services.db, caller.project.id);
    return c.json({ success: true as const, data: view(settings) }, 200);
  })
  .openapi(putRoute, async (c) => {
    const caller = await authorizeProject(c);
    const { db, defer } = c.var.services;
    const body = c.req.valid("json");
    const names = Object.keys(body.presets);
    if (names.length > MAX_PROJECT_PRESETS) invalidField("presets", `at most ${MAX_PROJECT_PRESETS} presets`);
    for (const name of names) {
      if (name in BUILT_IN_PRESETS) invalidField(`presets.${name}`, "is a built-in preset's name");
      let options: ReturnType<typeof parsePresetDefinition>;
      try {
        options = parsePresetDefinition(body.presets[name] as string);
      } catch (error) {
        if (error instanceof AppError) invalidField(`presets.${name}`, error.message);
        throw error;
      }
      if (!hasTransformOptions(options)) invalidField(`presets.${name}`, "names no option");
    }
    let watermark: ProjectImageSettings["watermark"] = null;
    if (body.watermark) {
      const mark = await findProjectImage(db, caller.project.id, body.watermark.imageId);
      if (!mark) invalidField("watermark.imageId", "is not an image of this project");
      if (mark.width * mark.height > MAX_WATERMARK_PIXELS) {
        invalidField(
          "watermark.imageId",
          `is ${mark.width}x${mark.height}; a watermark has at most ${MAX_WATERMARK_PIXELS} pixels`,
        );
      }
      watermark = { ...body.watermark, storageKey: mark.storageKey };
    }
    if (body.watermarkByDefault && !watermark) invalidField("watermarkByDefault", "needs a watermark");
    const settings: ProjectImageSettings = { presets: body.presets, watermark, watermarkByDefault: body.watermarkByDefault };
    await writeImageSettings(db, caller.project.id, settings);
    // Cached variants may carry the old watermark or preset: purge them here; other data
    // centres drop theirs within the edge TTL.
    await purgeImages(imageOrigin(c), await variantsOf(db, { projectId: caller.project.id }));
    defer(() =>
      recordAudit(db, {
        action: "project.image_settings_updated",
        actorKeyId: caller.keyId,
        target: { type: "project", id: caller.project.id },
        organizationId: caller.organization.id,
        projectId: caller.project.id,
        client: clientInfo(c),
        metadata: { presets: names.join(","), watermark: watermark !== null, watermarkByDefault: settings.watermarkByDefault },
      }),
    );
    return c.json({ success: true as const, data: view(settings) }, 200);
  });
