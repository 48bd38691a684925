import { spawnSync } from "node:child_process";
import path from "node:path";
import type { TestProject } from "vitest/node";
import { type GeminiFake, startGeminiFake } from "../../dev/gemini-fake/server.ts";
import { type Stack, startStack } from "../../dev/stack/index.ts";
import { freePort } from "../../dev/stack/ports.ts";
import { ROOT } from "../../dev/stack/settings.ts";
import { QUIET_ENV, startWranglerDev, type WranglerDev, writeEnvFile } from "../../dev/stack/wrangler.ts";
import { tempDir } from "../../dev/test/support/temp-dir.ts";
import { ENHANCED_MARKER, scriptedEnhancement } from "./support/fixtures.ts";

declare module "vitest" {
  export interface ProvidedContext {
    /** Origin of `wrangler dev` serving the built site and the API. */
    siteUrl: string;
    /** The Worker's BOOTSTRAP_TOKEN (ENVIRONMENT test), which the journey types to bootstrap. */
    bootstrapToken: string;
  }
}

const GEMINI_KEY = "browser-test-gemini-key";
const TEXT_MODEL = "gemini-2.5-flash";
const BOOTSTRAP_TOKEN = "browser-test-bootstrap-token-0123456789";

let stack: Stack | undefined;
let gemini: GeminiFake | undefined;
let worker: WranglerDev | undefined;
let dataDir: Awaited<ReturnType<typeof tempDir>> | undefined;

/**
 * The whole platform as a visitor meets it, on free ports: PostgreSQL (empty, so the journey
 * can bootstrap), the WebSocket proxy, the S3 server, the Gemini-protocol fake, a fresh site
 * build and `wrangler dev` serving both.
 */
export async function setup(project: TestProject) {
  dataDir = await tempDir("browser");
  const build = spawnSync("astro", ["build", "--root", "site", "--silent"], { cwd: ROOT, env: QUIET_ENV, encoding: "utf8" });
  if (build.status !== 0) throw new Error(`astro build failed:\n${build.stdout}\n${build.stderr}`);
  [stack, gemini] = await Promise.all([
    startStack({ dataDir: dataDir.path, ports: { postgres: 0, wsProxy: 0, s3: 0 }, persistent: false }),
    startGeminiFake({ apiKey: GEMINI_KEY }),
  ]);
  // The fake's default text answer is not the enhancer's JSON: script one for the journey's prompt.
  await fetch(`${gemini.url}/__fake/script`, {
    method: "POST",
    body: JSON.stringify({ marker: ENHANCED_MARKER, model: TEXT_MODEL, text: JSON.stringify(scriptedEnhancement) }),
  });
  const envFile = path.join(dataDir.path, "browser.vars");
  await writeEnvFile(envFile, {
    ...stack.workerVars,
    ENVIRONMENT: "test",
    BOOTSTRAP_TOKEN,
    GEMINI_API_KEY: GEMINI_KEY,
    GEMINI_BASE_URL: gemini.url,
    GEMINI_TEXT_MODEL: TEXT_MODEL,
  });
  worker = await startWranglerDev({
    port: await freePort(),
    inspectorPort: await freePort(),
    envFiles: [envFile],
    persistTo: path.join(dataDir.path, "wrangler"),
    output: "ignore",
  });
  project.provide("siteUrl", worker.url);
  project.provide("bootstrapToken", BOOTSTRAP_TOKEN);
}

export async function teardown() {
  await worker?.stop();
  await Promise.all([stack?.stop(), gemini?.stop()]);
  await dataDir?.remove();
}
