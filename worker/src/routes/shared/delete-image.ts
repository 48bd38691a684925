/** Deleting one image of a project, the same way for every route that deletes one. */
import type { BatchItem } from "drizzle-orm/batch";
import type { Context } from "hono";
import type { Image } from "../../db/schema";
import { purgeImages } from "../../delivery/edge-cache";
import { imageUrlBase } from "../../delivery/image-urls";
import type { ProjectCaller } from "../../lib/access-types";
import { clientInfo } from "../../lib/client-address";
import { AppError } from "../../lib/errors";
import { logFailure } from "../../lib/log";
import type { HonoEnv } from "../../middleware/env";
import { recordAudit } from "../../services/audit";
import { readImageSettings } from "../../services/image-settings";
import { variantsOf } from "../../services/image-variants";
import { markImageDeleted } from "../../services/images";

export interface DeleteImageOptions {
  /**
   * What becomes of the project's watermark image: "refuse" (the default) is 409 IMAGE_IN_USE;
   * "keep" leaves it, deleting nothing (a generation deleted with its image keeps it that way).
   */
  watermark?: "refuse" | "keep";
  /** Statements the transaction that marks the image deleted runs too (its generation's delete). */
  alongside?: readonly BatchItem<"pg">[];
  /** More for the `image.deleted` audit line (the generation it came from). */
  auditMetadata?: Record<string, unknown>;
}

/**
 * Deletes a live image of the caller's project: its object, then its row (with every alias
 * naming it), then its edge copies. Returns whether it was deleted: only a kept watermark is not.
 */
export async function deleteProjectImage(
  c: Context<HonoEnv>,
  caller: ProjectCaller,
  image: Pick<Image, "id" | "storageKey">,
  options: DeleteImageOptions = {},
): Promise<boolean> {
  const { db, store, defer } = c.var.services;
  const [settings, variants] = await Promise.all([
    readImageSettings(db, caller.project.id),
    variantsOf(db, { imageId: image.id }),
  ]);
  if (settings.watermark?.imageId === image.id) {
    if (options.watermark === "keep") return false;
    throw new AppError("IMAGE_IN_USE", "This image is the project's watermark; change the watermark first");
  }
  try {
    // Object first: if storage refuses, the row stays live, the image is still served and a
    // retry can finish the job. A row left live after its object went is finished by a retry
    // too, since deleting a missing object succeeds.
    await store.delete(image.storageKey);
    await markImageDeleted(db, caller.project.id, image.id, options.alongside);
  } finally {
    // Whatever failed, no edge copy may outlive a step that succeeded. A failed purge is logged,
    // never allowed to hide the error of the step before it.
    await purgeImages(imageUrlBase(c), [image.storageKey, ...variants]).catch((error: unknown) =>
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
      metadata: { storageKey: image.storageKey, ...options.auditMetadata },
    }),
  );
  return true;
}
