import { createRoute, z } from "@hono/zod-openapi";
import { IMAGE_CATEGORIES } from "../domain/catalog";
import { SLUG_PATTERN } from "../domain/slug";
import { createRouter } from "../lib/create-app";
import { AppError } from "../lib/errors";
import { commonErrorResponses, problemResponse } from "../lib/openapi";
import { access } from "../middleware/access";

/** Server-made names only: no dots but the extension's, no slashes, nothing to escape with. */
const FILE_NAME = /^[a-z0-9][a-z0-9_-]{0,120}\.(png|jpg|webp)$/;
const IMMUTABLE = "public, max-age=31536000, immutable";

const route = createRoute({
  method: "get",
  path: "/api/images/{organization}/{project}/{category}/{file}",
  tags: ["Images"],
  operationId: "getImage",
  summary: "An image's bytes (public: the URL is the capability)",
  middleware: [access.public()],
  request: {
    params: z.object({
      organization: z.string().regex(SLUG_PATTERN),
      project: z.string().regex(SLUG_PATTERN),
      category: z.enum(IMAGE_CATEGORIES),
      file: z.string().regex(FILE_NAME),
    }),
  },
  responses: {
    200: { description: "The image", content: { "image/*": { schema: z.string().openapi({ format: "binary" }) } } },
    404: problemResponse("No such image"),
    ...commonErrorResponses,
  },
});

export const imageRoutes = createRouter().openapi(
  route,
  async (c) => {
    const { organization, project, category, file } = c.req.valid("param");
    const object = await c.var.services.store.get(`${organization}/${project}/${category}/${file}`);
    if (!object) throw new AppError("NOT_FOUND", "No such image");
    const name = object.metadata.filename ? `${object.metadata.filename}.${file.split(".").pop()}` : file;
    return c.body(object.body, 200, {
      "Content-Type": object.contentType,
      "Content-Length": String(object.size),
      ETag: `"${object.etag}"`,
      "Last-Modified": object.uploaded.toUTCString(),
      "Cache-Control": IMMUTABLE,
      "X-Content-Type-Options": "nosniff",
      "Content-Disposition": `inline; filename="${name}"`,
    });
  },
  // Any malformed path is simply not an image: answer 404, never echo what was asked.
  (result) => {
    if (!result.success) throw new AppError("NOT_FOUND", "No such image");
    return undefined;
  },
);
