import { execFileSync } from "node:child_process";
import { readdir, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { convertV4MiniflareOptions, Miniflare, type V4WorkerOptionsShape } from "miniflare";
import { unstable_getMiniflareWorkerOptions } from "wrangler";
import { ROOT } from "../dev/stack/settings.ts";
import { QUIET_ENV } from "../dev/stack/wrangler.ts";

export interface RuntimeWorker {
  url: string;
  stop(): Promise<void>;
}

/** The Worker bundled as `wrangler deploy` uploads it; `start` runs it with the given variables. */
export interface WorkerBundle {
  /** What wrangler reports it would upload, in KiB. */
  size: { total: number; gzip: number };
  start(vars: Record<string, string>): Promise<RuntimeWorker>;
}

/** The two deployable Workers: the API with the site's assets, and image delivery. */
const WORKER_CONFIGS = { api: "wrangler.toml", delivery: "wrangler.delivery.toml" } as const;

/**
 * Runs a deployable bundle in Miniflare: one workerd process with the bindings its configuration
 * declares. `wrangler dev` puts a proxy Worker in a second workerd process in front of every
 * request; on two cores that proxy, not our code, caps large responses (~350 req/s for 200 KB,
 * where the runtime alone does ~1,500 with the same body). The edge has no such proxy, so
 * throughput comparisons with other servers use this runtime.
 */
export function buildWorkerBundle(worker: keyof typeof WORKER_CONFIGS): Promise<WorkerBundle> {
  // Each configuration is built once per run and shared by the scenarios that run it.
  let bundle = bundles.get(worker);
  if (!bundle) {
    bundle = build(worker);
    bundles.set(worker, bundle);
  }
  return bundle;
}

/** Deletes the bundles this run built; the suite calls it once, when every scenario is done. */
export async function removeWorkerBundles(): Promise<void> {
  await Promise.all([...bundles.keys()].map((worker) => rm(outdirOf(worker), { recursive: true, force: true })));
  bundles.clear();
}

/**
 * One load generator stands in for the many clients an image CDN serves, all from one address:
 * the per-client limit on public work (a shield that the tests check, not a cost to measure)
 * would cut every throughput figure at its 100 requests per 10 s.
 */
function liftClientLimit(limits: V4WorkerOptionsShape["ratelimits"]): V4WorkerOptionsShape["ratelimits"] {
  const client = limits?.PUBLIC_IP_LIMITER;
  return client ? { ...limits, PUBLIC_IP_LIMITER: { ...client, simple: { limit: 1_000_000, period: 10 } } } : limits;
}

const bundles = new Map<keyof typeof WORKER_CONFIGS, Promise<WorkerBundle>>();

function outdirOf(worker: keyof typeof WORKER_CONFIGS): string {
  return path.join(os.tmpdir(), `banatie-bench-runtime-${worker}-${process.pid}`);
}

async function build(worker: keyof typeof WORKER_CONFIGS): Promise<WorkerBundle> {
  const config = path.join(ROOT, WORKER_CONFIGS[worker]);
  const outdir = outdirOf(worker);
  const output = execFileSync("wrangler", ["deploy", "--dry-run", "-c", config, "--outdir", outdir], {
    cwd: ROOT,
    env: QUIET_ENV,
    encoding: "utf8",
  });
  const [, total = "NaN", gzip = "NaN"] = output.match(/Total Upload: ([\d.]+) KiB \/ gzip: ([\d.]+) KiB/) ?? [];
  const files = await readdir(outdir);
  const entry = files.find((file) => file.endsWith(".js"));
  if (!entry) throw new Error(`wrangler wrote no JavaScript module to ${outdir}`);
  const wasmModules = files
    .filter((file) => file.endsWith(".wasm"))
    .map((file) => ({ type: "CompiledWasm" as const, path: path.join(outdir, file) }));
  // Modules are listed from the bundle: Miniflare 5 cannot take wrangler's module rules.
  const { modulesRules: _rules, ...workerOptions } = unstable_getMiniflareWorkerOptions(config)
    .workerOptions as V4WorkerOptionsShape & { modulesRules?: unknown };

  return {
    size: { total: Number(total), gzip: Number(gzip) },
    async start(vars) {
      const miniflare = new Miniflare(
        convertV4MiniflareOptions({
          host: "127.0.0.1",
          port: 0,
          logRequests: false,
          // The Worker's one line per request would bury the bench's tables; anything else shows.
          handleStructuredLogs: ({ level, message }) => {
            if (message.startsWith('{"message":"request"')) return;
            (level === "error" || level === "warn" ? console.error : console.log)(message);
          },
          ...workerOptions,
          name: `banatie-${worker}`,
          modulesRoot: outdir,
          modules: [{ type: "ESModule", path: path.join(outdir, entry) }, ...wasmModules],
          bindings: { ...workerOptions.bindings, ...vars },
          ratelimits: liftClientLimit(workerOptions.ratelimits),
        }),
      );
      const url = (await miniflare.ready).origin;
      return { url, stop: () => miniflare.dispose() };
    },
  };
}
