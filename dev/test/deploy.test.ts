import { spawn } from "node:child_process";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { chosenWorkers, tailCommands } from "../deploy/tail.ts";
import { ROOT } from "../stack/settings.ts";

/** `npm run deploy` as an operator runs it, with no database named (so it can never deploy here). */
function runDeployCommand(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["dev/deploy/deploy.ts", ...args], {
      cwd: ROOT,
      env: { ...process.env, DATABASE_URL: "", CLOUDFLARE_API_TOKEN: "" },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

/** The numbered steps of a printed plan, as command lines. */
function planSteps(output: string): string[] {
  return output
    .split("\n")
    .map((line) => /^\s+\d+\.\s+.+?\s{2,}(\S.*)$/.exec(line)?.[1])
    .filter((command): command is string => command !== undefined);
}

describe("npm run deploy", () => {
  it.each(["staging", "production"])(
    "--dry-run prints the %s plan: check, migrations, site, image delivery Worker, then the API Worker",
    async (env) => {
      const { code, stdout } = await runDeployCommand(["--env", env, "--dry-run"]);
      expect(planSteps(stdout)).toEqual([
        `node dev/deploy/check.ts --env ${env} --allow-pending-migrations`,
        "node dev/migrate.ts",
        "astro build --root site",
        `wrangler deploy --config wrangler.delivery.toml --env ${env}`,
        `wrangler deploy --config wrangler.toml --env ${env}`,
      ]);
      expect(stdout).toContain("--dry-run: nothing was run");
      expect(code).toBe(0);
    },
  );

  it("refuses to start without DATABASE_URL, which the migrations are applied to", async () => {
    const { code, stderr } = await runDeployCommand(["--env", "staging"]);
    expect(stderr).toContain("DATABASE_URL must name the staging database");
    expect(code).toBe(1);
  });

  it("refuses an environment the configuration does not declare", async () => {
    const { code, stderr } = await runDeployCommand(["--env", "prod", "--dry-run"]);
    expect(stderr).toContain("--env must be one of staging, production");
    expect(code).toBe(1);
  });
});

describe("npm run tail", () => {
  const target = { env: "production", configDir: ROOT };

  it("tails both Workers of the environment unless --worker names one", () => {
    expect(tailCommands(target, chosenWorkers(undefined), ["--status", "error"])).toEqual([
      {
        worker: "delivery",
        args: ["tail", "--config", path.join(ROOT, "wrangler.delivery.toml"), "--env", "production", "--status", "error"],
      },
      { worker: "api", args: ["tail", "--config", path.join(ROOT, "wrangler.toml"), "--env", "production", "--status", "error"] },
    ]);
    expect(tailCommands(target, chosenWorkers("api")).map((command) => command.worker)).toEqual(["api"]);
  });

  it("refuses a Worker it does not know", () => {
    expect(() => chosenWorkers("cdn")).toThrow("--worker must be api or delivery");
  });
});
