import { version } from "../../../../package.json";
import { spendClientBudget } from "../../delivery/client-limit";
import { HEALTH_CHECK_TIMEOUT_MS } from "../../domain/limits";
import { authorize } from "../../middleware/access";
import { checkHealth } from "../../services/health";
import type { AppRouteHandler } from "../create-app";
import type { deepHealthRoute, healthRoute } from "./health.routes";

function about(environment: string) {
  return { timestamp: new Date().toISOString(), version, environment };
}

/** Answers from the Worker alone: no database, storage or model call. */
export const getHealth: AppRouteHandler<typeof healthRoute> = async (c) => {
  await spendClientBudget(c, "health");
  c.header("Cache-Control", "no-store");
  return c.json({ status: "ok" as const, ...about(c.var.config.environment) }, 200);
};

export const getDeepHealth: AppRouteHandler<typeof deepHealthRoute> = async (c) => {
  await authorize(c);
  const report = await checkHealth(c.var.services, HEALTH_CHECK_TIMEOUT_MS);
  const body = { status: report.status, ...about(c.var.config.environment), checks: report.checks };
  c.header("Cache-Control", "no-store");
  return report.status === "ok" ? c.json(body, 200) : c.json(body, 503);
};
