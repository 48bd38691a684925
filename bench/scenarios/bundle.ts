import os from "node:os";
import path from "node:path";
import { freePort } from "../../dev/stack/ports.ts";
import { startWranglerDev, writeEnvFile } from "../../dev/stack/wrangler.ts";
import { buildWorkerBundle } from "../miniflare-worker.ts";
import type { Scenario } from "./types.ts";

/** The Worker as `wrangler deploy` would upload it, and how long a fresh `wrangler dev` takes to answer. */
export const bundleScenario: Scenario = {
  name: "bundle",
  async run({ platform }) {
    const { total, gzip } = (await buildWorkerBundle("api")).size;
    const delivery = (await buildWorkerBundle("delivery")).size;

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
