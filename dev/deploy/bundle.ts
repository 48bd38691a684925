import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { gzipSync } from "node:zlib";
import type { DeployedWorker } from "../../worker/src/config.ts";
import { type CheckResult, fail, pass, skip } from "./checklist.ts";
import { runQuiet, toolError } from "./run.ts";
import { configPath, type DeployTarget } from "./workers.ts";

const MIB = 1024 * 1024;

/**
 * Worker size limits. Cloudflare's limits page has given 3 MB (Workers Free) and 10 MB (Workers
 * Paid) after compression; wrangler 4.156 reports an upload against 64 MiB before compression.
 * A bundle is held to the 64 MiB and to the Free plan's 3 MiB after gzip, so one that passes
 * deploys on either plan under either rule.
 */
export const SIZE_LIMITS = { gzip: 3 * MIB, uncompressed: 64 * MIB } as const;

/** What a dry run bundled, measured as wrangler measures an upload: every module, gzipped together. */
export interface BundleSize {
  bytes: number;
  gzipBytes: number;
}

export type DryRun = { ok: true; size: BundleSize } | { ok: false; error: string };

/** `wrangler deploy --dry-run` of one Worker into `outdir`: bundles and validates, uploads nothing. */
export async function dryRun(target: DeployTarget, worker: DeployedWorker, outdir: string): Promise<DryRun> {
  const args = ["deploy", "--dry-run", "--config", configPath(target, worker), "--env", target.env, "--outdir", outdir];
  const result = await runQuiet("wrangler", args);
  if (result.code !== 0) return { ok: false, error: toolError(result) };
  return { ok: true, size: await measureBundle(outdir) };
}

/** Source maps and wrangler's README are written beside the bundle but not uploaded. */
export async function measureBundle(outdir: string): Promise<BundleSize> {
  const files = (await readdir(outdir)).filter((file) => !file.endsWith(".map") && file !== "README.md").sort();
  const contents = await Promise.all(files.map((file) => readFile(path.join(outdir, file))));
  const all = Buffer.concat(contents);
  return { bytes: all.byteLength, gzipBytes: gzipSync(all).byteLength };
}

export function checkDryRun(worker: DeployedWorker, run: DryRun, target: DeployTarget): CheckResult {
  const name = `dry run (${worker})`;
  return run.ok
    ? pass(name, `wrangler deploy --dry-run --env ${target.env} bundled and validated the configuration`)
    : fail(name, run.error);
}

export function checkBundleSize(worker: DeployedWorker, run: DryRun): CheckResult {
  const name = `bundle size (${worker})`;
  if (!run.ok) return skip(name, "no bundle: the dry run failed");
  const { bytes, gzipBytes } = run.size;
  const summary = `${kib(bytes)} (limit ${kib(SIZE_LIMITS.uncompressed)}), ${kib(gzipBytes)} gzip (limit ${kib(SIZE_LIMITS.gzip)})`;
  return bytes <= SIZE_LIMITS.uncompressed && gzipBytes <= SIZE_LIMITS.gzip
    ? pass(name, summary)
    : fail(name, `too large: ${summary}`);
}

function kib(bytes: number): string {
  return `${(bytes / 1024).toFixed(0)} KiB`;
}
