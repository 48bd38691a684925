import { execFile } from "node:child_process";
import { promisify } from "node:util";
import type { TestContext } from "vitest";

const run = promisify(execFile);

/**
 * Why this machine cannot run Python 3 with the given modules (npm cannot install them), or
 * undefined when it can.
 */
export async function missingPython(modules: string[] = []): Promise<string | undefined> {
  const imports = modules.map((name) => `import ${name}`).join("\n") || "pass";
  return run("python3", ["-c", imports]).then(
    () => undefined,
    () =>
      `needs python3${modules.length ? ` with ${modules.join(", ")}` : ""} (on Debian: apt-get install python3 python3-requests)`,
  );
}

/**
 * Skips the running test when something it needs is missing, with the reason in the run's
 * summary (dev/test/skip-report.ts). In CI, where every test must run, the test fails instead.
 */
export function skipIfMissing(context: TestContext, missing: string | undefined): void {
  if (missing === undefined) return;
  if (process.env.CI === "true") throw new Error(`This test ${missing}; CI runs every test.`);
  context.skip(missing);
}
