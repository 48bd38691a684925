import { type ChildProcess, spawn } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { stopChild } from "./s3-server.ts";
import { ROOT } from "./settings.ts";

const READY_TIMEOUT_MS = 60_000;

/** No telemetry, no lookups of Cloudflare's network. */
export const QUIET_SETTINGS = {
  WRANGLER_SEND_METRICS: "false",
  CLOUDFLARE_CF_FETCH_ENABLED: "false",
  ASTRO_TELEMETRY_DISABLED: "1",
};

/** Environment for every tool we start. */
export const QUIET_ENV = { ...process.env, ...QUIET_SETTINGS };

/** Writes the Worker's variables as an .env file for `--env-file`; readable by its owner only. */
export async function writeEnvFile(file: string, vars: Record<string, string>): Promise<void> {
  const lines = Object.entries(vars).map(([name, value]) => `${name}=${value}`);
  await writeFile(file, `${lines.join("\n")}\n`, { mode: 0o600 });
}

export interface WranglerDev {
  url: string;
  child: ChildProcess;
  /** The body of the first successful GET /health. */
  health: unknown;
  stop(): Promise<void>;
}

export interface WranglerDevOptions {
  port: number;
  inspectorPort: number;
  /** .env files with the Worker's variables; later files win. */
  envFiles: string[];
  persistTo: string;
  /** Show wrangler's own output (dev) or keep it quiet (benchmarks). */
  output: "inherit" | "ignore";
  /** Serve these static assets instead of the built site (tests that need only the API). */
  assetsDir?: string;
  /** Another Worker's configuration, such as wrangler.delivery.toml; wrangler.toml by default. */
  configPath?: string;
}

/** `wrangler dev` serving the Worker and the built site; resolves once /health answers 200. */
export async function startWranglerDev(options: WranglerDevOptions): Promise<WranglerDev> {
  const args = ["dev", "--ip", "127.0.0.1", "--port", String(options.port), "--inspector-port", String(options.inspectorPort)];
  args.push("--persist-to", options.persistTo, "--show-interactive-dev-session=false");
  for (const file of options.envFiles) args.push("--env-file", file);
  if (options.assetsDir) args.push("--assets", options.assetsDir);
  if (options.configPath) args.push("--config", options.configPath);
  const child = spawn("wrangler", args, { cwd: ROOT, env: QUIET_ENV, stdio: ["ignore", options.output, options.output] });
  // Even when our process ends without stopping it (an uncaught error), wrangler goes too.
  const killOnExit = () => child.kill("SIGTERM");
  process.on("exit", killOnExit);
  child.once("exit", () => process.off("exit", killOnExit));

  const url = `http://127.0.0.1:${options.port}`;
  try {
    const health = await waitForHealth(url, child);
    return { url, child, health, stop: () => stopChild(child) };
  } catch (error) {
    await stopChild(child);
    throw error;
  }
}

async function waitForHealth(url: string, child: ChildProcess): Promise<unknown> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error("wrangler dev exited before the API answered");
    try {
      const response = await fetch(`${url}/health`);
      if (response.ok) return await response.json();
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`The API did not answer ${url}/health within ${READY_TIMEOUT_MS / 1000} s`);
}
