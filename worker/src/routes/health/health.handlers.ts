import { version } from "../../../../package.json";
import { spendClientBudget } from "../../delivery/client-limit";
import { HEALTH_CHECK_TIMEOUT_MS } from "../../domain/limits";
import { recentHealth } from "../../services/health";
import type { AppRouteHandler } from "../create-app";
import type { healthRoute } from "./health.routes";

export const getHealth: AppRouteHandler<typeof healthRoute> = async (c) => {
  await spendClientBudget(c, "health");
  const report = await recentHealth(c.env, c.var.services, HEALTH_CHECK_TIMEOUT_MS);
  const body = {
    status: report.status,
    timestamp: new Date().toISOString(),
    version,
    environment: c.var.config.environment,
    checks: report.checks,
  };
  c.header("Cache-Control", "no-store");
  return report.status === "ok" ? c.json(body, 200) : c.json(body, 503);
};
