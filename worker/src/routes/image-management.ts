import { createRoute, z } from "@hono/zod-openapi";
import { purgeImages } from "../delivery/edge-cache";
import { imageOrigin, imageUrl } from "../delivery/image-urls";
import { MAX_TEMPORARY_URL_SECONDS, signPath } from "../delivery/signed-url";
import { ASPECT_RATIO_VALUES, OUTPUT_FORMATS } from "../domain/catalog";
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from "../domain/limits";
import { planTransform } from "../images/transform/geometry";
import { canonicalOptions, hasTransformOptions, invalidOption, parseTransformOptions } from "../images/transform/options";
import { expandPreset } from "../images/transform/presets";
import { clientInfo } from "../lib/client-address";
import { AppError } from "../lib/errors";
import { logFailure } from "../lib/log";
import {
  commonErrorResponses,
  keyErrorResponses,
  keySecurity,
  listEnvelope,
  pagination,
  problemResponse,
  successEnvelope,
} from "../lib/openapi";
import { access, authorizeProject } from "../middleware/access";
import { recordAudit } from "../services/audit";
import { readImageSettings } from "../services/image-settings";
import { variantsOf } from "../services/image-variants";
import { findProjectImage, findProjectImagePolicy, listImages, markImageDeleted } from "../services/images";
import { createRouter } from "./create-app";

const ImageSchema = z
  .object({
    id: z.string().uuid(),
    url: z.string().url(),
    category: z.enum(["generated", "uploads", "references"]),
    mimeType: z.string(),
    bytes: z.number().int(),
    width: z.number().int(),
    height: z.number().int(),
    aspectRatio: z.string().nullable(),
    sha256: z.string(),
    filename: z.string().nullable(),
    createdAt: z.string().datetime(),
    prompt: z.string().nullable().openapi({ description: "Generated images: the prompt as written" }),
    enhancedPrompt: z.string().nullable().openapi({ description: "Generated images: the prompt the model received" }),
    template: z.string().nullable(),
    model: z.string().nullable(),
  })
  .openapi("Image");

const MIME_BY_FORMAT = { png: "image/png", jpeg: "image/jpeg", webp: "image/webp" } as const;

const ListQuery = z.object({
  limit: z.coerce.number().int().min(1).max(MAX_PAGE_SIZE).default(DEFAULT_PAGE_SIZE),
  cursor: z.string().uuid().optional().openapi({ description: "`pagination.nextCursor` of the previous page" }),
  createdAfter: z.string().datetime({ offset: true }).optional(),
  createdBefore: z.string().datetime({ offset: true }).optional(),
  format: z.enum(OUTPUT_FORMATS).optional(),
  aspectRatio: z.enum(ASPECT_RATIO_VALUES).optional(),
  q: z
    .string()
    .trim()
    .min(2)
    .max(200)
    .optional()
    .openapi({ description: "Text in a prompt or filename (at least 2 characters)" }),
});

function listRoute(path: "/api/images/generated" | "/api/images/uploads", summary: string) {
  return createRoute({
    method: "get",
    path,
    tags: ["Images"],
    operationId: path.endsWith("generated") ? "listGeneratedImages" : "listUploadedImages",
    summary,
    description: "Newest first, by cursor: pages stay stable while new images arrive.",
    middleware: [access.project({ rateLimited: false })],
    security: keySecurity,
    request: {
      query: path.endsWith("uploads")
        ? ListQuery.extend({ category: z.enum(["uploads", "references"]).optional().openapi({ description: "Default: both" }) })
        : ListQuery,
    },
    responses: {
      200: { description: "A page of images", content: { "application/json": { schema: listEnvelope(ImageSchema) } } },
      400: problemResponse("Invalid filter"),
      ...keyErrorResponses,
      ...commonErrorResponses,
    },
  });
}

const listGenerated = listRoute("/api/images/generated", "The project's generated images");
const listUploads = listRoute("/api/images/uploads", "The project's uploaded images");

const idParams = z.object({ id: z.string().uuid() });

const temporaryUrlRoute = createRoute({
  method: "post",
  path: "/api/images/{id}/temporary-url",
  tags: ["Images"],
  operationId: "createTemporaryUrl",
  summary: "A signed URL to an image that expires",
  description: "The only way to serve images of a private project. Anyone with the URL can fetch the image until it expires.",
  middleware: [access.project({ rateLimited: false })],
  security: keySecurity,
  request: {
    params: idParams,
    body: {
      content: {
        "application/json": {
          schema: z
            .object({
              expiresIn: z
                .number()
                .int()
                .min(1)
                .max(MAX_TEMPORARY_URL_SECONDS)
                .default(3600)
                .openapi({ description: "Seconds, up to 7 days" }),
            })
            .strict(),
        },
      },
      required: false,
    },
  },
  responses: {
    201: {
      description: "The URL",
      content: {
        "application/json": { schema: successEnvelope(z.object({ url: z.string().url(), expiresAt: z.string().datetime() })) },
      },
    },
    400: problemResponse("The id is not a UUID, or expiresIn is invalid"),
    404: problemResponse("No such image in this project"),
    ...keyErrorResponses,
    ...commonErrorResponses,
  },
});

const transformUrlRoute = createRoute({
  method: "post",
  path: "/api/images/{id}/transform-url",
  tags: ["Images"],
  operationId: "createTransformUrl",
  summary: "A signed URL to a transformed variant of an image",
  description:
    "Arbitrary sizes, crops and qualities need a signature (presets do not). The signature covers the path and the options in canonical order, so the URL serves exactly that variant. It never expires unless expiresIn is given; for images of private projects it always expires (default one hour).",
  middleware: [access.project({ rateLimited: false })],
  security: keySecurity,
  request: {
    params: idParams,
    body: {
      content: {
        "application/json": {
          schema: z
            .object({
              options: z
                .string()
                .min(1)
                .max(500)
                .openapi({ description: "Transformation options as a query string", example: "w=500&format=webp&q=75" }),
              expiresIn: z.number().int().min(1).max(MAX_TEMPORARY_URL_SECONDS).optional(),
            })
            .strict(),
        },
      },
      required: true,
    },
  },
  responses: {
    201: {
      description: "The URL",
      content: {
        "application/json": {
          schema: successEnvelope(
            z.object({ url: z.string().url(), options: z.string(), expiresAt: z.string().datetime().nullable() }),
          ),
        },
      },
    },
    400: problemResponse("An invalid transformation option (INVALID_TRANSFORM), or an invalid id or body"),
    404: problemResponse("No such image in this project"),
    422: problemResponse("The variant would exceed the size limit (OUTPUT_TOO_LARGE), so serving it would fail"),
    ...keyErrorResponses,
    ...commonErrorResponses,
  },
});

const deleteRoute = createRoute({
  method: "delete",
  path: "/api/images/{id}",
  tags: ["Images"],
  operationId: "deleteImage",
  summary: "Delete an image",
  description: "Removes the object, marks the row deleted and purges the edge cache: the URL answers 404 from then on.",
  middleware: [access.project({ rateLimited: false })],
  security: keySecurity,
  request: { params: idParams },
  responses: {
    200: {
      description: "Deleted",
      content: { "application/json": { schema: successEnvelope(z.object({ id: z.string().uuid(), deleted: z.literal(true) })) } },
    },
    400: problemResponse("The id is not a UUID"),
    404: problemResponse("No such image in this project"),
    409: problemResponse("The image is the project's watermark (IMAGE_IN_USE)"),
    ...keyErrorResponses,
    503: problemResponse(
      "Object storage did not delete the image (STORAGE_UNAVAILABLE): it is intact; retry. Or the database is down or did not answer in time (DATABASE_UNAVAILABLE); retry after Retry-After seconds",
    ),
    ...commonErrorResponses,
  },
});

type ListRow = Awaited<ReturnType<typeof listImages>>["rows"][number];

export const imageManagementRoutes = createRouter()
  .openapi(listGenerated, async (c) => {
    const caller = await authorizeProject(c);
    const query = c.req.valid("query");
    return c.json(await listPage(c, caller.project.id, ["generated"], query), 200);
  })
  .openapi(listUploads, async (c) => {
    const caller = await authorizeProject(c);
    const query = c.req.valid("query") as z.infer<typeof ListQuery> & { category?: "uploads" | "references" };
    return c.json(
      await listPage(c, caller.project.id, query.category ? [query.category] : ["uploads", "references"], query),
      200,
    );
  })
  .openapi(temporaryUrlRoute, async (c) => {
    const caller = await authorizeProject(c);
    const secret = c.var.config.urlSigningSecret;
    if (!secret) throw new AppError("CONFIGURATION_ERROR", "Temporary URLs need URL_SIGNING_SECRET to be set");
    const image = await findProjectImage(c.var.services.db, caller.project.id, c.req.valid("param").id);
    if (!image) throw new AppError("NOT_FOUND", "No such image in this project");
    const { expiresIn } = c.req.header("content-type")?.includes("json") ? c.req.valid("json") : { expiresIn: 3600 };
    const expires = Math.floor(Date.now() / 1000) + expiresIn;
    const sig = await signPath(secret, `/api/images/${image.storageKey}`, expires);
    return c.json(
      {
        success: true as const,
        data: {
          url: `${imageUrl(c, image.storageKey)}?expires=${expires}&sig=${sig}`,
          expiresAt: new Date(expires * 1000).toISOString(),
        },
      },
      201,
    );
  })
  .openapi(transformUrlRoute, async (c) => {
    const caller = await authorizeProject(c);
    const secret = c.var.config.urlSigningSecret;
    if (!secret) throw new AppError("CONFIGURATION_ERROR", "Signed URLs need URL_SIGNING_SECRET to be set");
    const body = c.req.valid("json");
    const options = parseTransformOptions(new URLSearchParams(body.options));
    if (!hasTransformOptions(options)) {
      invalidOption("options", "name at least one transformation option");
    }
    const { db } = c.var.services;
    const image = await findProjectImage(db, caller.project.id, c.req.valid("param").id);
    if (!image) throw new AppError("NOT_FOUND", "No such image in this project");
    // Refuse now what serving would refuse: an unknown preset, a crop outside the image, a too large output.
    const project = await findProjectImagePolicy(db, caller.project.id);
    planTransform(image.width, image.height, expandPreset(options, project.presets));
    // Images of private projects are served only through URLs that expire.
    const expiresIn = body.expiresIn ?? (project.private ? 3600 : undefined);
    const expires = expiresIn === undefined ? null : Math.floor(Date.now() / 1000) + expiresIn;
    const canonical = canonicalOptions(options);
    const sig = await signPath(secret, `/api/images/${image.storageKey}`, expires, canonical);
    const query = `${canonical}${expires === null ? "" : `&expires=${expires}`}&sig=${sig}`;
    return c.json(
      {
        success: true as const,
        data: {
          url: `${imageUrl(c, image.storageKey)}?${query}`,
          options: canonical,
          expiresAt: expires === null ? null : new Date(expires * 1000).toISOString(),
        },
      },
      201,
    );
  })
  .openapi(deleteRoute, async (c) => {
    const caller = await authorizeProject(c);
    const { db, store, defer } = c.var.services;
    const image = await findProjectImage(db, caller.project.id, c.req.valid("param").id);
    if (!image) throw new AppError("NOT_FOUND", "No such image in this project");
    const [settings, variants] = await Promise.all([
      readImageSettings(db, caller.project.id),
      variantsOf(db, { imageId: image.id }),
    ]);
    if (settings.watermark?.imageId === image.id) {
      throw new AppError("IMAGE_IN_USE", "This image is the project's watermark; change the watermark first");
    }
    try {
      // Object first: if storage refuses, the row stays live, the image is still served and a
      // retry can finish the job. A row left live after its object went is finished by a retry
      // too, since deleting a missing object succeeds.
      await store.delete(image.storageKey);
      await markImageDeleted(db, image.id);
    } finally {
      // Whatever failed, no edge copy may outlive a step that succeeded. A failed purge is logged,
      // never allowed to hide the error of the step before it.
      await purgeImages(imageOrigin(c), [image.storageKey, ...variants]).catch((error: unknown) =>
        logFailure("edge cache purge failed", error, { requestId: c.get("requestId") }),
      );
    }
    defer(() =>
      recordAudit(db, {
        action: "image.deleted",
        actorKeyId: caller.keyId,
        target: { type: "image", id: image.id },
        organizationId: caller.organization.id,
        projectId: caller.project.id,
        client: clientInfo(c),
        metadata: { storageKey: image.storageKey },
      }),
    );
    return c.json({ success: true as const, data: { id: image.id, deleted: true as const } }, 200);
  });

async function listPage(
  c: Parameters<typeof imageUrl>[0],
  projectId: string,
  categories: ("generated" | "uploads" | "references")[],
  query: z.infer<typeof ListQuery>,
) {
  const { rows, nextCursor } = await listImages(c.var.services.db, projectId, {
    categories,
    limit: query.limit,
    cursor: query.cursor,
    createdAfter: query.createdAfter ? new Date(query.createdAfter) : undefined,
    createdBefore: query.createdBefore ? new Date(query.createdBefore) : undefined,
    mimeType: query.format ? MIME_BY_FORMAT[query.format] : undefined,
    aspectRatio: query.aspectRatio,
    search: query.q,
  });
  return {
    success: true as const,
    data: rows.map((row: ListRow) => ({
      id: row.image.id,
      url: imageUrl(c, row.image.storageKey),
      category: row.image.category,
      mimeType: row.image.mimeType,
      bytes: row.image.bytes,
      width: row.image.width,
      height: row.image.height,
      aspectRatio: row.image.aspectRatio,
      sha256: row.image.sha256,
      filename: row.image.originalFilename,
      createdAt: row.image.createdAt.toISOString(),
      prompt: row.prompt,
      enhancedPrompt: row.enhancedPrompt,
      template: row.template,
      model: row.model,
    })),
    pagination: pagination(query.limit, nextCursor),
  };
}
