import { randomBytes } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { applyMigrations, ensureDatabase } from "./migrations.ts";
import { freePort } from "./ports.ts";
import { type LocalPostgres, startPostgres } from "./postgres.ts";
import { type LocalS3, startS3Server } from "./s3-server.ts";
import { startWsProxy, type WsProxy } from "./ws-proxy.ts";

export const BUCKET = "banatie";
export const DATABASE = "banatie";

export interface StackOptions {
  /** Folder for PostgreSQL's cluster, the S3 objects and logs. */
  dataDir: string;
  /** 0 picks a free port. */
  ports: { postgres: number; wsProxy: number; s3: number };
  /** Keep data after stop (dev) or delete it (tests, benchmarks). */
  persistent: boolean;
  /**
   * Let the proxy reach any port on 127.0.0.1, not only this stack's PostgreSQL: tests point
   * the Worker at a port where nothing listens to see how it behaves with the database down.
   */
  proxyAnyLoopbackPort?: boolean;
  /** Make the S3 server close each connection after its response (tests that pause it). */
  s3ConnectionPerRequest?: boolean;
  /** Passed to the WebSocket proxy: sees what clients send to PostgreSQL. */
  observeDatabaseClient?: (connection: number, chunk: Buffer) => void;
}

export interface Stack {
  postgres: LocalPostgres;
  wsProxy: WsProxy;
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
 * PostgreSQL, the Neon WebSocket proxy in front of it, and an S3-protocol server with the
 * bucket created, with migrations applied: everything the Worker needs, without Docker.
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
      }).then(track),
    ]);
    const wsProxy = await startWsProxy({
      port: options.ports.wsProxy,
      allowAddress: (host, port) => host === "127.0.0.1" && (options.proxyAnyLoopbackPort || port === postgres.port),
      observeClient: options.observeDatabaseClient,
    });
    track(wsProxy);
    const proxyAddress = `127.0.0.1:${wsProxy.port}`;
    await ensureDatabase(postgres.url, proxyAddress);
    await applyMigrations(postgres.url, proxyAddress);

    return {
      postgres,
      wsProxy,
      s3,
      workerVars: {
        // A Worker on this stack is local by definition: development's rules, which allow the plain
        // WebSocket proxy (wrangler.toml says production). Tests set their own.
        ENVIRONMENT: "development",
        URL_SIGNING_SECRET: await urlSigningSecret(options.dataDir),
        DATABASE_URL: postgres.url,
        DATABASE_WS_PROXY: proxyAddress,
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
