import { execFileSync } from "node:child_process";
import os from "node:os";
import path from "node:path";
import { freePort } from "../../dev/stack/ports.ts";
import { ROOT } from "../../dev/stack/settings.ts";
import { QUIET_ENV, startWranglerDev, writeEnvFile } from "../../dev/stack/wrangler.ts";
import type { Scenario } from "./types.ts";

/** The Worker as `wrangler deploy` would upload it, and how long a fresh `wrangler dev` takes to answer. */
export const bundleScenario: Scenario = {
  name: "bundle",
  async run({ platform }) {
    const outdir = path.join(os.tmpdir(), `banatie-bench-bundle-${process.pid}`);
    const output = execFileSync("wrangler", ["deploy", "--dry-run", "--outdir", outdir], {
      cwd: ROOT,
      env: QUIET_ENV,
      encoding: "utf8",
    });
    const [, total = "NaN", gzip = "NaN"] = output.match(/Total Upload: ([\d.]+) KiB \/ gzip: ([\d.]+) KiB/) ?? [];

    const vars = path.join(os.tmpdir(), `banatie-bench-startup-${process.pid}.vars`);
    await writeEnvFile(vars, platform.stack.workerVars);
    const started = performance.now();
    const worker = await startWranglerDev({
      port: await freePort(),
      inspectorPort: await freePort(),
      envFiles: [vars],
      persistTo: path.join(os.tmpdir(), `banatie-bench-startup-${process.pid}`),
      output: "ignore",
    });
    const startupMs = performance.now() - started;
    await worker.stop();

    return {
      scenario: "bundle",
      description: "Worker bundle and cold start",
      measurements: [],
      metrics: { bundleKiB: Number(total), bundleGzipKiB: Number(gzip), devStartupMs: startupMs },
      notes: [
        `wrangler deploy --dry-run: ${total} KiB, ${gzip} KiB gzip`,
        `fresh wrangler dev to first 200 from /health: ${Math.round(startupMs)} ms`,
      ],
    };
  },
};
