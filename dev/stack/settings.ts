import path from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root, wherever a script is started from. */
export const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** Where `npm run dev` keeps its data; BANATIE_DATA_DIR lets tests and side-by-side stacks keep their own. */
export const DEV_DATA_DIR = path.resolve(ROOT, process.env.BANATIE_DATA_DIR || ".data");

/** Ports of `npm run dev`, each overridable by its variable. */
export const DEV_PORTS = {
  api: { variable: "BANATIE_PORT", fallback: 8787, service: "the API and site (wrangler dev)" },
  inspector: { variable: "BANATIE_INSPECTOR_PORT", fallback: 9230, service: "the Worker inspector" },
  postgres: { variable: "BANATIE_PG_PORT", fallback: 54329, service: "PostgreSQL" },
  wsProxy: { variable: "BANATIE_WS_PORT", fallback: 54330, service: "the Neon WebSocket proxy" },
  s3: { variable: "BANATIE_S3_PORT", fallback: 54331, service: "the S3-protocol server" },
  neonHttp: { variable: "BANATIE_HTTP_PORT", fallback: 54332, service: "the Neon SQL-over-HTTP server" },
} as const;

export type PortName = keyof typeof DEV_PORTS;

export function devPort(name: PortName): number {
  const { variable, fallback } = DEV_PORTS[name];
  const raw = process.env[variable];
  if (raw === undefined || raw === "") return fallback;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`${variable} must be a port number (1-65535)`);
  return port;
}
