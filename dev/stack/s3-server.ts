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
    ],
    { stdio: ["pipe", "pipe", "pipe"] },
  );
  // Even when our process ends without stopping it (an uncaught error), the server goes too.
  const killOnExit = () => child.kill("SIGTERM");
  process.on("exit", killOnExit);
  child.once("exit", () => process.off("exit", killOnExit));
  const port = await waitForReady(child);
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
    child.stdout?.on("data", (chunk: Buffer) => {
      const line = chunk
        .toString()
        .split("\n")
        .find((text) => text.startsWith("{"));
      if (line) resolve((JSON.parse(line) as { port: number }).port);
    });
    child.once("exit", (code) => reject(new Error(`S3 server exited (${code}): ${stderr.trim()}`)));
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
