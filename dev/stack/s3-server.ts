import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

export interface LocalS3 {
  endpoint: string;
  port: number;
  /** The server's own process (a child of ours), which tests may pause with SIGSTOP. */
  pid: number;
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
  stop(): Promise<void>;
}

/** One request as the server answered it, for counting round trips. */
export interface ObservedStorageRequest {
  method: string;
  /** Path-style: `/{bucket}/{key}`, decoded. */
  path: string;
  status: number;
  /** Epoch milliseconds (fractional), comparable across processes of this machine. */
  startedAt: number;
  endedAt: number;
}

const LAUNCHER = fileURLToPath(new URL("./s3-server.cjs", import.meta.url));
const ACCESS_KEY_ID = "banatie-local";
const SECRET_ACCESS_KEY = "banatie-local-secret";

/** An S3-protocol server (s3rver, which checks SigV4 signatures) with the bucket created. */
export async function startS3Server(options: {
  port: number;
  dataDir: string;
  bucket: string;
  /** Close each connection after its response (see s3-server.cjs); keep-alive by default. */
  connectionPerRequest?: boolean;
  /** Sees every request once it is answered. */
  observe?: (request: ObservedStorageRequest) => void;
}): Promise<LocalS3> {
  const child = spawn(
    process.execPath,
    [
      "--openssl-legacy-provider",
      LAUNCHER,
      String(options.port),
      options.dataDir,
      options.bucket,
      ACCESS_KEY_ID,
      SECRET_ACCESS_KEY,
      options.connectionPerRequest ? "close" : "keep-alive",
      options.observe ? "report" : "quiet",
    ],
    { stdio: ["pipe", "pipe", "pipe"] },
  );
  // Even when our process ends without stopping it (an uncaught error), the server goes too.
  const killOnExit = () => child.kill("SIGTERM");
  process.on("exit", killOnExit);
  child.once("exit", () => process.off("exit", killOnExit));
  const port = await waitForReady(child);
  if (options.observe) reportRequests(child, options.observe);
  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    pid: child.pid as number,
    bucket: options.bucket,
    accessKeyId: ACCESS_KEY_ID,
    secretAccessKey: SECRET_ACCESS_KEY,
    stop: () => stopChild(child),
  };
}

function waitForReady(child: ChildProcess): Promise<number> {
  return new Promise((resolve, reject) => {
    let stderr = "";
    child.stderr?.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    // Only the first line: the request lines that may follow are someone else's (reportRequests).
    const ready = (chunk: Buffer) => {
      const line = chunk
        .toString()
        .split("\n")
        .find((text) => text.startsWith('{"ready"'));
      if (!line) return;
      child.stdout?.off("data", ready);
      resolve((JSON.parse(line) as { port: number }).port);
    };
    child.stdout?.on("data", ready);
    child.once("exit", (code) => reject(new Error(`S3 server exited (${code}): ${stderr.trim()}`)));
  });
}

function reportRequests(child: ChildProcess, observe: (request: ObservedStorageRequest) => void): void {
  let pending = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    const lines = (pending + chunk.toString()).split("\n");
    pending = lines.pop() ?? "";
    for (const line of lines) {
      if (!line.startsWith('{"request"')) continue;
      observe((JSON.parse(line) as { request: ObservedStorageRequest }).request);
    }
  });
}

export function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const force = setTimeout(() => child.kill("SIGKILL"), 5000);
    child.once("exit", () => {
      clearTimeout(force);
      resolve();
    });
    child.kill("SIGTERM");
  });
}
