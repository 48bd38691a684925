/** The audit trail of alias changes: moving an alias changes what its public URL shows. */
import type { Context } from "hono";
import type { ProjectCaller } from "../../lib/access-types";
import { clientInfo } from "../../lib/client-address";
import type { HonoEnv } from "../../middleware/env";
import type { AliasChange } from "../../services/aliases";
import { recordAudit } from "../../services/audit";

/** Records one `alias.changed` event per change, after the response. */
export function auditAliasChanges(c: Context<HonoEnv>, caller: ProjectCaller, changes: AliasChange[]): void {
  const { db, defer } = c.var.services;
  const client = clientInfo(c);
  for (const change of changes) {
    // A change names an image on at least one side (a write that names none changes nothing).
    const imageId = change.toImageId ?? change.fromImageId;
    if (!imageId) continue;
    defer(() =>
      recordAudit(db, {
        action: "alias.changed",
        actorKeyId: caller.keyId,
        target: { type: "image", id: imageId },
        organizationId: caller.organization.id,
        projectId: caller.project.id,
        client,
        metadata: { ...change },
      }),
    );
  }
}
