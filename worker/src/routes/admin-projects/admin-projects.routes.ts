import { createRoute, z } from "@hono/zod-openapi";
import { commonErrorResponses, keyErrorResponses, keySecurity, problemResponse, successEnvelope } from "../../lib/openapi";
import { access } from "../../middleware/access";

export const updateProjectRoute = createRoute({
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
