import { purgeImages } from "../../delivery/edge-cache";
import { imageUrlBase } from "../../delivery/image-urls";
import { microsToUsd, usdToMicros } from "../../domain/budget";
import { clientInfo } from "../../lib/client-address";
import { AppError } from "../../lib/errors";
import { authorize } from "../../middleware/access";
import { recordAudit } from "../../services/audit";
import { variantsOf } from "../../services/image-variants";
import { projectImageKeys, updateProjectSettings } from "../../services/images";
import type { AppRouteHandler } from "../create-app";
import type { updateProjectRoute } from "./admin-projects.routes";

export const updateProject: AppRouteHandler<typeof updateProjectRoute> = async (c) => {
  const caller = await authorize(c);
  const { db, defer } = c.var.services;
  const { id } = c.req.valid("param");
  const body = c.req.valid("json");
  const project = await updateProjectSettings(db, id, {
    private: body.private,
    monthlyBudgetUsdMicros:
      body.monthlyBudgetUsd === undefined
        ? undefined
        : body.monthlyBudgetUsd === null
          ? null
          : usdToMicros(body.monthlyBudgetUsd),
  });
  if (!project) throw new AppError("PROJECT_NOT_FOUND", `No project has id ${id}`);
  const monthlyBudgetUsd = project.monthlyBudgetUsdMicros === null ? null : microsToUsd(project.monthlyBudgetUsdMicros);
  if (body.private) {
    // Cached copies would otherwise keep serving the images publicly.
    await purgeImages(imageUrlBase(c), [
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
      // Only what this request changed.
      metadata: {
        ...(body.private === undefined ? {} : { private: project.private }),
        ...(body.monthlyBudgetUsd === undefined ? {} : { monthlyBudgetUsd }),
      },
    }),
  );
  return c.json(
    { success: true as const, data: { id: project.id, slug: project.slug, private: project.private, monthlyBudgetUsd } },
    200,
  );
};
