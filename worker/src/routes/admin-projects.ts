import { createRoute, z } from "@hono/zod-openapi";
import { purgeImages } from "../delivery/edge-cache";
import { imageOrigin } from "../delivery/image-urls";
import { clientInfo } from "../lib/client-address";
import { AppError } from "../lib/errors";
import { commonErrorResponses, keyErrorResponses, keySecurity, problemResponse, successEnvelope } from "../lib/openapi";
import { access, authorize } from "../middleware/access";
import { recordAudit } from "../services/audit";
import { variantsOf } from "../services/image-variants";
import { projectImageKeys, setProjectPrivacy } from "../services/images";
import { createRouter } from "./create-app";

const route = createRoute({
  method: "patch",
  path: "/api/admin/projects/{id}",
  tags: ["Keys"],
  operationId: "updateProject",
  summary: "Make a project's images private or public",
  description:
    "Images of a private project are served only through temporary URLs; making a project private purges its images from the edge cache.",
  middleware: [access.master()],
  security: keySecurity,
  request: {
    params: z.object({ id: z.string().uuid() }),
    body: { content: { "application/json": { schema: z.object({ private: z.boolean() }).strict() } }, required: true },
  },
  responses: {
    200: {
      description: "The project",
      content: {
        "application/json": {
          schema: successEnvelope(z.object({ id: z.string().uuid(), slug: z.string(), private: z.boolean() })),
        },
      },
    },
    400: problemResponse("The id is not a UUID, or the body is invalid"),
    404: problemResponse("No such project"),
    ...keyErrorResponses,
    ...commonErrorResponses,
  },
});

export const adminProjectRoutes = createRouter().openapi(route, async (c) => {
  const caller = await authorize(c);
  const { db, defer } = c.var.services;
  const { id } = c.req.valid("param");
  const project = await setProjectPrivacy(db, id, c.req.valid("json").private);
  if (!project) throw new AppError("PROJECT_NOT_FOUND", `No project has id ${id}`);
  if (project.private) {
    // Cached copies would otherwise keep serving the images publicly.
    await purgeImages(imageOrigin(c), [
      ...(await projectImageKeys(db, project.id)),
      ...(await variantsOf(db, { projectId: project.id })),
    ]);
  }
  defer(() =>
    recordAudit(db, {
      action: "project.updated",
      actorKeyId: caller.keyId,
      target: { type: "project", id: project.id },
      projectId: project.id,
      organizationId: project.organizationId,
      client: clientInfo(c),
      metadata: { private: project.private },
    }),
  );
  return c.json({ success: true as const, data: { id: project.id, slug: project.slug, private: project.private } }, 200);
});
