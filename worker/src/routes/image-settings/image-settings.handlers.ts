import type { z } from "@hono/zod-openapi";
import type { Database } from "../../db/client";
import { purgeImages } from "../../delivery/edge-cache";
import { imageUrlBase } from "../../delivery/image-urls";
import type { ProjectImageSettings } from "../../domain/image-settings";
import { MAX_PROJECT_PRESETS, MAX_WATERMARK_PIXELS } from "../../domain/limits";
import { type GRAVITIES, hasTransformOptions } from "../../images/transform/options";
import { BUILT_IN_PRESETS, parsePresetDefinition } from "../../images/transform/presets";
import { clientInfo } from "../../lib/client-address";
import { AppError } from "../../lib/errors";
import { authorizeProject } from "../../middleware/access";
import { recordAudit } from "../../services/audit";
import { readImageSettings, writeImageSettings } from "../../services/image-settings";
import { variantsOf } from "../../services/image-variants";
import { findProjectImage } from "../../services/images";
import type { AppRouteHandler } from "../create-app";
import type { getRoute, putRoute, SettingsBody } from "./image-settings.routes";

type SettingsRequest = z.infer<typeof SettingsBody>;

export const getImageSettings: AppRouteHandler<typeof getRoute> = async (c) => {
  const caller = await authorizeProject(c);
  const settings = await readImageSettings(c.var.services.db, caller.project.id);
  return c.json({ success: true as const, data: view(settings) }, 200);
};

/** Checks the whole request before anything is written, then stores it and purges what it outdates. */
export const setImageSettings: AppRouteHandler<typeof putRoute> = async (c) => {
  const caller = await authorizeProject(c);
  const { db, defer } = c.var.services;
  const body = c.req.valid("json");
  validatePresets(body.presets);
  const watermark = await resolveWatermark(db, caller.project.id, body.watermark);
  if (body.watermarkByDefault && !watermark) invalidField("watermarkByDefault", "needs a watermark");
  const settings: ProjectImageSettings = { presets: body.presets, watermark, watermarkByDefault: body.watermarkByDefault };
  await storeAndPurge(db, imageUrlBase(c), caller.project.id, settings);
  defer(() =>
    recordAudit(db, {
      action: "project.image_settings_updated",
      actorKeyId: caller.keyId,
      target: { type: "project", id: caller.project.id },
      organizationId: caller.organization.id,
      projectId: caller.project.id,
      client: clientInfo(c),
      metadata: {
        presets: Object.keys(body.presets).join(","),
        watermark: watermark !== null,
        watermarkByDefault: settings.watermarkByDefault,
      },
    }),
  );
  return c.json({ success: true as const, data: view(settings) }, 200);
};

/** Each preset must parse, name at least one option and not shadow a built-in one. */
function validatePresets(presets: SettingsRequest["presets"]) {
  const names = Object.keys(presets);
  if (names.length > MAX_PROJECT_PRESETS) invalidField("presets", `at most ${MAX_PROJECT_PRESETS} presets`);
  for (const name of names) {
    if (name in BUILT_IN_PRESETS) invalidField(`presets.${name}`, "is a built-in preset's name");
    let options: ReturnType<typeof parsePresetDefinition>;
    try {
      options = parsePresetDefinition(presets[name] as string);
    } catch (error) {
      if (error instanceof AppError) invalidField(`presets.${name}`, error.message);
      throw error;
    }
    if (!hasTransformOptions(options)) invalidField(`presets.${name}`, "names no option");
  }
}

/** The watermark must be one of the project's images and small enough to composite. */
async function resolveWatermark(
  db: Database,
  projectId: string,
  requested: SettingsRequest["watermark"],
): Promise<ProjectImageSettings["watermark"]> {
  if (!requested) return null;
  const mark = await findProjectImage(db, projectId, requested.imageId);
  if (!mark) invalidField("watermark.imageId", "is not an image of this project");
  if (mark.width * mark.height > MAX_WATERMARK_PIXELS) {
    invalidField("watermark.imageId", `is ${mark.width}x${mark.height}; a watermark has at most ${MAX_WATERMARK_PIXELS} pixels`);
  }
  return { ...requested, storageKey: mark.storageKey };
}

async function storeAndPurge(db: Database, origin: string, projectId: string, settings: ProjectImageSettings) {
  await writeImageSettings(db, projectId, settings);
  // Cached variants may carry the old watermark or preset: purge them here; other data
  // centres drop theirs within the edge TTL.
  await purgeImages(origin, await variantsOf(db, { projectId }));
}

function invalidField(field: string, message: string): never {
  throw new AppError("VALIDATION_ERROR", `${field}: ${message}`, { errors: [{ field, message }] });
}

/** The settings as the API shows them, with the built-in presets alongside the project's. */
export function view(settings: ProjectImageSettings) {
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
