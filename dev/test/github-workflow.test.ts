import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { ROOT } from "../stack/settings.ts";
import { readDeployGuide } from "./support/deploy-guide.ts";

/**
 * GitHub Actions cannot run here; what the workflows promise can be read from them: pull requests
 * run the README's test command, main deploys to staging, only a `v*` tag deploys to production,
 * each through the npm scripts with its own --env, and every secret they use is in the guide.
 */

interface Step {
  uses?: string;
  run?: string;
}
interface Job {
  if?: string;
  needs?: string | string[];
  uses?: string;
  with?: Record<string, string>;
  secrets?: string;
  steps?: Step[];
  environment?: { name: string };
}
interface Workflow {
  on: Record<string, unknown>;
  jobs: Record<string, Job>;
}

const WORKFLOWS = path.join(ROOT, ".github/workflows");
const source = (file: string) => readFileSync(path.join(WORKFLOWS, file), "utf8");
const ci = parse(source("ci.yml")) as Workflow;
const deploy = parse(source("deploy.yml")) as Workflow;

/** The deploy workflow's commands as a caller's `with:` makes them. */
function deployCommands(caller: Job): string[] {
  const steps = Object.values(deploy.jobs).flatMap((job) => job.steps ?? []);
  return steps.flatMap((step) =>
    step.run ? [step.run.replace(/\$\{\{\s*inputs\.([\w-]+)\s*\}\}/g, (_, name: string) => caller.with?.[name] ?? "")] : [],
  );
}

/** The one ci.yml job that deploys this environment. */
function deployJob(environment: string): Job {
  const jobs = Object.values(ci.jobs).filter((job) => job.uses === "./.github/workflows/deploy.yml");
  const matching = jobs.filter((job) => job.with?.environment === environment);
  expect(matching, `jobs deploying ${environment}`).toHaveLength(1);
  return matching[0] as Job;
}

describe("the GitHub Actions workflows", () => {
  it("test every pull request with the README's test command", () => {
    expect(ci.on).toHaveProperty("pull_request");
    const test = ci.jobs.test;
    expect(test?.if).toBeUndefined();
    const readme = readFileSync(path.join(ROOT, "README.md"), "utf8");
    expect(readme).toContain("`bash .ci/run`");
    expect(test?.steps?.map((step) => step.run)).toContain("bash .ci/run");
  });

  it("deploy main to staging, after the tests, with the staging scripts", () => {
    expect(ci.on.push).toMatchObject({ branches: ["main"] });
    const staging = deployJob("staging");
    expect(staging.if).toBe("github.event_name == 'push' && github.ref == 'refs/heads/main'");
    expect(staging.needs).toBe("test");
    const commands = deployCommands(staging);
    expect(commands).toContain("npm run deploy -- --env staging");
    expect(commands).toContain(
      'npm run smoke -- https://api-staging.banatie.app --key "$SMOKE_PROJECT_KEY" --cdn https://cdn-staging.banatie.app',
    );
  });

  it("deploy production only from a v* tag, after the tests, with the production scripts", () => {
    expect(ci.on.push).toMatchObject({ tags: ["v*"] });
    const production = deployJob("production");
    expect(production.if).toBe("github.event_name == 'push' && startsWith(github.ref, 'refs/tags/v')");
    expect(production.needs).toBe("test");
    const commands = deployCommands(production);
    expect(commands).toContain("npm run deploy -- --env production");
    expect(commands).toContain(
      'npm run smoke -- https://api.banatie.app --key "$SMOKE_PROJECT_KEY" --cdn https://cdn.banatie.app',
    );
    for (const command of commands) expect(command).not.toContain("staging");
  });

  it("deploy inside the GitHub environment of the same name, so its secrets apply", () => {
    expect(deploy.on).toHaveProperty("workflow_call");
    expect(deploy.jobs.deploy?.environment?.name).toMatch(/^\$\{\{\s*inputs\.environment\s*\}\}$/);
    for (const environment of ["staging", "production"]) expect(deployJob(environment).secrets).toBe("inherit");
  });

  it("pin actions to a major version", () => {
    const uses = [ci, deploy].flatMap((workflow) =>
      Object.values(workflow.jobs).flatMap((job) => (job.steps ?? []).flatMap((step) => step.uses ?? [])),
    );
    expect(uses.length).toBeGreaterThan(0);
    for (const action of uses) expect(action).toMatch(/^[\w-]+\/[\w-]+@v\d+$/);
  });

  it("use only secrets that the deploy guide names", () => {
    const secrets = new Set(
      [...`${source("ci.yml")}${source("deploy.yml")}`.matchAll(/secrets\.(\w+)/g)].map((match) => match[1]),
    );
    expect([...secrets].sort()).toEqual(["CLOUDFLARE_ACCOUNT_ID", "CLOUDFLARE_API_TOKEN", "DATABASE_URL", "SMOKE_PROJECT_KEY"]);
    const guide = readDeployGuide();
    for (const secret of secrets) expect(guide, `the deploy guide does not name ${secret}`).toContain(`\`${secret}\``);
  });
});
