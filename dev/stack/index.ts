import { randomBytes } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { applyMigrations, ensureDatabase } from "./migrations.ts";
import { type NeonHttpServer, type ObservedSqlRequest, startNeonHttpServer } from "./neon-http.ts";
import { freePort } from "./ports.ts";
import { type LocalPostgres, startPostgres } from "./postgres.ts";
import { type LocalS3, type ObservedStorageRequest, startS3Server } from "./s3-server.ts";
import { startWsProxy, type WsProxy } from "./ws-proxy.ts";

export const BUCKET = "banatie";
export const DATABASE = "banatie";

export interface StackOptions {
  /** Folder for PostgreSQL's cluster, the S3 objects and logs. */
  dataDir: string;
  /** 0 (or, for the Neon HTTP server, unset) picks a free port. */
  ports: { postgres: number; wsProxy: number; s3: number; neonHttp?: number };
  /** Keep data after stop (dev) or delete it (tests, benchmarks). */
  persistent: boolean;
  /**
   * Let the proxies reach any port on 127.0.0.1, not only this stack's PostgreSQL: tests point
   * the Worker at a port where nothing listens to see how it behaves with the database down.
   */
  proxyAnyLoopbackPort?: boolean;
  /** Make the S3 server close each connection after its response (tests that pause it). */
  s3ConnectionPerRequest?: boolean;
  /** Passed to the WebSocket proxy: sees what clients send to PostgreSQL. */
  observeDatabaseClient?: (connection: number, chunk: Buffer) => void;
  /** Passed to the Neon HTTP server: sees every SQL-over-HTTP request. */
  observeDatabaseRequest?: (request: ObservedSqlRequest) => void;
  /** Passed to the Neon HTTP server: how long to hold its answers for a database. */
  databaseLatencyMs?: (database: string, queries: string[]) => number;
  /** Passed to the S3 server: sees every storage request. */
  observeStorageRequest?: (request: ObservedStorageRequest) => void;
}

export interface Stack {
  postgres: LocalPostgres;
  wsProxy: WsProxy;
  neonHttp: NeonHttpServer;
  s3: LocalS3;
  /** The variables that point a Worker at this stack. */
  workerVars: Record<string, string>;
  stop(): Promise<void>;
}

/** A random secret for temporary image URLs, kept with the data so URLs outlive a restart. */
export async function urlSigningSecret(dataDir: string): Promise<string> {
  const file = path.join(dataDir, "url-signing-secret");
  const existing = await readFile(file, "utf8").catch(() => "");
  if (existing.trim().length >= 32) return existing.trim();
  const secret = randomBytes(32).toString("hex");
  await mkdir(dataDir, { recursive: true });
  await writeFile(file, secret, { mode: 0o600 });
  return secret;
}

/**
 * PostgreSQL, the Neon WebSocket proxy and SQL-over-HTTP server in front of it, and an
 * S3-protocol server with the bucket created, with migrations applied: everything the Worker
 * needs, without Docker.
 */
export async function startStack(options: StackOptions): Promise<Stack> {
  const started: { stop(): Promise<void> }[] = [];
  const track = <T extends { stop(): Promise<void> }>(service: T): T => {
    started.push(service);
    return service;
  };
  const stopAll = async () => {
    for (const service of started.reverse()) await service.stop().catch(() => {});
  };
  try {
    const postgresPort = options.ports.postgres || (await freePort());
    const [postgres, s3] = await Promise.all([
      startPostgres({
        dataDir: path.join(options.dataDir, "postgres"),
        port: postgresPort,
        database: DATABASE,
        persistent: options.persistent,
        logFile: path.join(options.dataDir, "logs", "postgres.log"),
      }).then(track),
      startS3Server({
        port: options.ports.s3,
        dataDir: path.join(options.dataDir, "s3"),
        bucket: BUCKET,
        connectionPerRequest: options.s3ConnectionPerRequest,
        observe: options.observeStorageRequest,
      }).then(track),
    ]);
    const allowAddress = (host: string, port: number) =>
      host === "127.0.0.1" && (options.proxyAnyLoopbackPort || port === postgres.port);
    const [wsProxy, neonHttp] = await Promise.all([
      startWsProxy({ port: options.ports.wsProxy, allowAddress, observeClient: options.observeDatabaseClient }).then(track),
      startNeonHttpServer({
        port: options.ports.neonHttp ?? 0,
        allowAddress,
        observe: options.observeDatabaseRequest,
        latencyMs: options.databaseLatencyMs,
      }).then(track),
    ]);
    const proxyAddress = `127.0.0.1:${wsProxy.port}`;
    await ensureDatabase(postgres.url, proxyAddress);
    await applyMigrations(postgres.url, proxyAddress);

    return {
      postgres,
      wsProxy,
      neonHttp,
      s3,
      workerVars: {
        // A Worker on this stack is local by definition: development's rules, which allow the plain
        // WebSocket proxy (wrangler.toml says production). Tests set their own.
        ENVIRONMENT: "development",
        URL_SIGNING_SECRET: await urlSigningSecret(options.dataDir),
        DATABASE_URL: postgres.url,
        DATABASE_WS_PROXY: proxyAddress,
        DATABASE_HTTP_ENDPOINT: neonHttp.endpoint,
        STORAGE_DRIVER: "s3",
        S3_ENDPOINT: s3.endpoint,
        S3_BUCKET: s3.bucket,
        S3_REGION: "us-east-1",
        S3_ACCESS_KEY_ID: s3.accessKeyId,
        S3_SECRET_ACCESS_KEY: s3.secretAccessKey,
      },
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}
