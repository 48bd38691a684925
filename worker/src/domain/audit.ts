/** Every action the audit trail records; clients filter on these names, so they never change. */
export const AUDIT_ACTIONS = [
  "bootstrap",
  "key.created",
  "key.revoked",
  "key.recovered",
  "key.budget_updated",
  "quota.exceeded",
  "budget.threshold_reached",
  "auth.failed",
  "image.deleted",
  "generation.deleted",
  "flow.deleted",
  "alias.changed",
  "project.updated",
  "project.image_settings_updated",
  "project.webhooks_updated",
  "project.webhook_secret_rotated",
  "organization.updated",
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];
