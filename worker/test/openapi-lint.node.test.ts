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
    // Redocly's no-ambiguous-paths ignores methods; the test below checks ambiguity per method instead.
    const args = ["redocly", "lint", file, "--extends=recommended", "--skip-rule=no-ambiguous-paths", "--format=stylish"];
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

const HTTP_METHODS = new Set(["get", "put", "post", "delete", "patch", "head", "options", "trace"]);

/**
 * Whether one URL could match both path templates with neither preferred: a concrete segment is
 * matched before a templated one (OpenAPI 3.1, Paths Object), so `/a/img/{x}` wins over
 * `/a/{c}/{f}`, while `/resolve/{alias}` and `/{id}/alias` each win at one segment: a tie.
 */
function pathsAmbiguous(a: string, b: string): boolean {
  const left = a.split("/");
  const right = b.split("/");
  if (left.length !== right.length) return false;
  const templated = (segment: string) => segment.startsWith("{");
  let leftConcrete = false;
  let rightConcrete = false;
  for (const [i, segment] of left.entries()) {
    const other = right[i] ?? "";
    if (segment === other || (templated(segment) && templated(other))) continue;
    if (!templated(segment) && !templated(other)) return false;
    if (templated(other)) leftConcrete = true;
    else rightConcrete = true;
  }
  return leftConcrete === rightConcrete;
}

describe("the OpenAPI document under redocly lint (recommended rules)", () => {
  it("routes every request to one operation: paths that overlap (Banatie's v1 has some) share no method", async () => {
    const { paths } = (await openApiDocument()) as { paths: Record<string, Record<string, unknown>> };
    const methodsOf = (path: string) => Object.keys(paths[path] ?? {}).filter((key) => HTTP_METHODS.has(key));
    const names = Object.keys(paths);
    const clashes = names.flatMap((a, i) =>
      names
        .slice(i + 1)
        .filter((b) => pathsAmbiguous(a, b))
        .flatMap((b) =>
          methodsOf(a)
            .filter((method) => methodsOf(b).includes(method))
            .map((method) => `${method} ${a} ~ ${b}`),
        ),
    );
    expect(clashes).toEqual([]);
  });

  it("has no errors and no warnings", async () => {
    const { exitCode, report } = await redoclyLint(await openApiDocument());
    // The whole report is the failure message, so a failing run says which rule broke where.
    expect(report, report).not.toMatch(/\d+ (error|warning)s?\b/);
    expect(report, report).toContain("Your API description is valid");
    expect(exitCode, report).toBe(0);
  });
});
