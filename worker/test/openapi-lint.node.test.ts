import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { openApiDocument } from "./support/openapi-document";

const run = promisify(execFile);

/** Redocly's CLI must work offline and quietly: no usage telemetry, no update check. */
const OFFLINE = { REDOCLY_TELEMETRY: "off", REDOCLY_SUPPRESS_UPDATE_NOTICE: "true" };

/** Runs `redocly lint` (its recommended rules) on a document; exit code and the human-readable report. */
async function redoclyLint(document: unknown): Promise<{ exitCode: number; report: string }> {
  const dir = await mkdtemp(path.join(tmpdir(), "banatie-openapi-"));
  try {
    const file = path.join(dir, "openapi.json");
    await writeFile(file, JSON.stringify(document, null, 2));
    const args = ["redocly", "lint", file, "--extends=recommended", "--format=stylish"];
    try {
      const { stdout, stderr } = await run("npx", args, { env: { ...process.env, ...OFFLINE } });
      return { exitCode: 0, report: stdout + stderr };
    } catch (error) {
      const failed = error as { code?: number; stdout?: string; stderr?: string };
      return { exitCode: failed.code ?? 1, report: `${failed.stdout ?? ""}${failed.stderr ?? ""}` };
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe("the OpenAPI document under redocly lint (recommended rules)", () => {
  it("has no errors and no warnings", async () => {
    const { exitCode, report } = await redoclyLint(await openApiDocument());
    // The whole report is the failure message, so a failing run says which rule broke where.
    expect(report, report).not.toMatch(/\d+ (error|warning)s?\b/);
    expect(report, report).toContain("Your API description is valid");
    expect(exitCode, report).toBe(0);
  });
});
