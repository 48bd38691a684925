import type { TestProject } from "vitest/node";
import { type GeminiFake, startGeminiFake } from "../gemini-fake/server.ts";
import { type Stack, startStack } from "../stack/index.ts";
import { freePort } from "../stack/ports.ts";
import { tempDir } from "./support/temp-dir.ts";

declare module "vitest" {
  export interface ProvidedContext {
    workerVars: Record<string, string>;
    /** A loopback port where nothing listens: a stopped PostgreSQL or S3 server looks like this. */
    deadPort: number;
    geminiUrl: string;
  }
}

let stack: Stack | undefined;
let gemini: GeminiFake | undefined;
let dataDir: Awaited<ReturnType<typeof tempDir>> | undefined;

/**
 * Starts throwaway PostgreSQL (migrated), the Neon WebSocket proxy, the S3-protocol server and
 * the Gemini-protocol fake on free ports for the Worker tests, and removes them afterwards.
 */
export async function setup(project: TestProject) {
  dataDir = await tempDir("test");
  [stack, gemini] = await Promise.all([
    startStack({
      dataDir: dataDir.path,
      ports: { postgres: 0, wsProxy: 0, s3: 0 },
      persistent: false,
      proxyAnyLoopbackPort: true,
    }),
    startGeminiFake({ apiKey: "test-gemini-key" }),
  ]);
  project.provide("workerVars", { ...stack.workerVars, ENVIRONMENT: "test" });
  project.provide("deadPort", await freePort());
  project.provide("geminiUrl", gemini.url);
}

export async function teardown() {
  await Promise.all([stack?.stop(), gemini?.stop()]);
  await dataDir?.remove();
}
