import type { Unstable_Config } from "wrangler";
import { type CheckResult, fail, pass } from "./checklist.ts";

type Runtime = Pick<Unstable_Config, "compatibility_date" | "compatibility_flags">;

/**
 * Both Workers of an environment run the same code on the same image URLs: a different runtime
 * date or flag could make one of them answer the same URL differently.
 */
export function checkCompatibility(api: Runtime, delivery: Runtime): CheckResult {
  const name = "compatibility";
  const flags = (config: Runtime) => [...config.compatibility_flags].sort().join(", ") || "none";
  const gaps: string[] = [];
  if (api.compatibility_date !== delivery.compatibility_date) {
    gaps.push(`compatibility_date is ${api.compatibility_date} for the API, ${delivery.compatibility_date} for delivery`);
  }
  if (flags(api) !== flags(delivery)) {
    gaps.push(`compatibility_flags are [${flags(api)}] for the API, [${flags(delivery)}] for delivery`);
  }
  return gaps.length > 0
    ? fail(name, gaps.join("; "))
    : pass(name, `both Workers on ${api.compatibility_date} with flags [${flags(api)}]`);
}
