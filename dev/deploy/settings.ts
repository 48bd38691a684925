import path from "node:path";
import type { Unstable_Config } from "wrangler";
import { type DeployedWorker, SETTINGS_DOCS, type SettingName, settingsSchema } from "../../worker/src/config.ts";
import { ROOT } from "../stack/settings.ts";
import { type CheckResult, fail, pass } from "./checklist.ts";
import type { SecretNames } from "./secrets.ts";
import type { DeployTarget } from "./workers.ts";

type Vars = Record<string, unknown>;

function isSetting(name: string): name is SettingName {
  return Object.hasOwn(settingsSchema.shape, name);
}

/** A setting as the Worker reads it from these [vars]: the value given, else the schema's default. */
function settingValue(name: SettingName, vars: Vars): unknown {
  const parsed = settingsSchema.shape[name].safeParse(vars[name]);
  return parsed.success ? parsed.data : undefined;
}

/** The settings this Worker needs when deployed with these [vars] (see requiredWhenDeployed in config.ts). */
export function requiredSettings(worker: DeployedWorker, vars: Vars): SettingName[] {
  return (Object.keys(SETTINGS_DOCS) as SettingName[]).filter((name) => {
    const rule = SETTINGS_DOCS[name].requiredWhenDeployed;
    if (!rule?.by.includes(worker)) return false;
    if (!rule.when) return true;
    const value = settingValue(rule.when.setting, vars);
    return "isSet" in rule.when ? value !== undefined : value === rule.when.is;
  });
}

/**
 * Every setting the Worker needs is named, in the environment's [vars] or among its secrets
 * (names only: no value is read or printed); secrets are not written as [vars]; the values the
 * [vars] give are valid; and storage has what its driver needs.
 */
export function checkSettings(
  target: DeployTarget,
  worker: DeployedWorker,
  config: Pick<Unstable_Config, "vars" | "r2_buckets" | "configPath">,
  secrets: SecretNames,
): CheckResult {
  const name = `settings (${worker})`;
  const vars = config.vars as Vars;
  const file = path.relative(ROOT, config.configPath ?? "wrangler.toml");
  const gaps: string[] = [];

  for (const setting of Object.keys(vars).filter(isSetting)) {
    if (SETTINGS_DOCS[setting].secret) {
      gaps.push(`${setting} is a secret: remove it from [env.${target.env}.vars] and set it with wrangler secret put`);
      continue;
    }
    const parsed = settingsSchema.shape[setting].safeParse(vars[setting]);
    if (!parsed.success) gaps.push(`${setting} ${parsed.error.issues[0]?.message ?? "is invalid"}`);
  }
  // A staging Worker that says production would take production's name in /health and logs.
  const namesAnEnvironment = settingsSchema.shape.ENVIRONMENT.safeParse(target.env).success;
  if (namesAnEnvironment && vars.ENVIRONMENT !== undefined && vars.ENVIRONMENT !== target.env) {
    gaps.push(`ENVIRONMENT is ${String(vars.ENVIRONMENT)} in the ${target.env} environment`);
  }
  if (settingValue("STORAGE_DRIVER", vars) === "r2" && !config.r2_buckets.some((bucket) => bucket.binding === "IMAGES_BUCKET")) {
    gaps.push(`STORAGE_DRIVER is r2 but [[env.${target.env}.r2_buckets]] has no IMAGES_BUCKET binding`);
  }

  const required = requiredSettings(worker, vars);
  const unset = required.filter((setting) => vars[setting] === undefined || vars[setting] === "");
  if ("error" in secrets) {
    gaps.push(`${secrets.error} (this Worker needs ${unset.join(", ")})`);
  } else {
    const present = new Set(secrets.names);
    for (const setting of unset.filter((setting) => !present.has(setting))) gaps.push(missing(setting, target, file));
  }

  if (gaps.length > 0 || "error" in secrets) return fail(name, gaps.join("; "));
  return pass(name, `${required.join(", ")} set (secret names from ${secrets.source})`);
}

function missing(setting: SettingName, target: DeployTarget, file: string): string {
  return SETTINGS_DOCS[setting].secret
    ? `${setting} is missing: wrangler secret put ${setting} --env ${target.env} --config ${file}`
    : `${setting} is missing: add it to [env.${target.env}.vars] in ${file}`;
}
