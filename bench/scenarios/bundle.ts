import { execFileSync } from "node:child_process";
import { rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { freePort } from "../../dev/stack/ports.ts";
import { ROOT } from "../../dev/stack/settings.ts";
import { QUIET_ENV, startWranglerDev, writeEnvFile } from "../../dev/stack/wrangler.ts";
import { WORKER_CONFIGS } from "../miniflare-worker.ts";
import type { Scenario } from "./types.ts";

/** What `wrangler deploy` would upload for a configuration, in KiB. */
function bundleSize(config: string): { total: number; gzip: number } {
  const outdir = path.join(os.tmpdir(), `banatie-bench-bundle-${process.pid}`);
  const output = execFileSync("wrangler", ["deploy", "--dry-run", "-c", config, "--outdir", outdir], {
    cwd: ROOT,
    env: QUIET_ENV,
    encoding: "utf8",
  });
  rmSync(outdir, { recursive: true, force: true });
  const [, total = "NaN", gzip = "NaN"] = output.match(/Total Upload: ([\d.]+) KiB \/ gzip: ([\d.]+) KiB/) ?? [];
  return { total: Number(total), gzip: Number(gzip) };
}

/** The Worker as `wrangler deploy` would upload it, and how long a fresh `wrangler dev` takes to answer. */
export const bundleScenario: Scenario = {
  name: "bundle",
  async run({ platform }) {
    const { total, gzip } = bundleSize(WORKER_CONFIGS.api);
    const delivery = bundleSize(WORKER_CONFIGS.delivery);

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
      metrics: {
        bundleKiB: total,
        bundleGzipKiB: gzip,
        deliveryBundleGzipKiB: delivery.gzip,
        devStartupMs: startupMs,
      },
      notes: [
        `wrangler deploy --dry-run: ${total} KiB, ${gzip} KiB gzip (the API Worker)`,
        `image delivery Worker (wrangler.delivery.toml): ${delivery.total} KiB, ${delivery.gzip} KiB gzip`,
        `fresh wrangler dev to first 200 from /health: ${Math.round(startupMs)} ms`,
      ],
    };
  },
};
