import { readFile } from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { type Stack, startStack } from "../../stack/index.ts";
import { tempDir } from "./temp-dir.ts";

/**
 * A second PostgreSQL and S3 server that tests may freeze (SIGSTOP) to see how the Worker copes
 * with a dependency that accepts connections but never answers. The shared stack cannot be used
 * for that: every test file talks to it in parallel. Started on first use, since only a few
 * tests need it; reached from workerd over loopback HTTP:
 *
 * - `POST /stack` starts it (once) and answers the Worker variables that point at it
 * - `POST /pause?target=postgres|s3` sends SIGSTOP to every PostgreSQL process (the postmaster
 *   and the backends of open connections, as when a compute is suspended) or to the S3 server
 * - `POST /resume?target=postgres|s3` sends SIGCONT
 */
export interface PausableStackControl {
  url: string;
  stop(): Promise<void>;
}

type Target = "postgres" | "s3";

/** The processes `pid` forked (Linux): PostgreSQL's backends and helpers. */
async function childProcesses(pid: number): Promise<number[]> {
  const children = await readFile(`/proc/${pid}/task/${pid}/children`, "utf8");
  return children.split(" ").filter(Boolean).map(Number);
}

function signalIfAlive(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // The backend of a connection that just closed: nothing left to freeze.
  }
}

export async function startPausableStackControl(): Promise<PausableStackControl> {
  let starting: Promise<{ stack: Stack; remove(): Promise<void> }> | undefined;
  const paused = new Set<Target>();

  const stackOnce = () => {
    starting ??= (async () => {
      const dataDir = await tempDir("pausable");
      const stack = await startStack({
        dataDir: dataDir.path,
        ports: { postgres: 0, wsProxy: 0, s3: 0 },
        persistent: false,
        // Every request to S3 then opens a connection the paused server has not accepted yet: a
        // write the Worker gave up on is served when the server wakes, as it can be in production.
        s3ConnectionPerRequest: true,
      });
      return { stack, remove: dataDir.remove };
    })();
    return starting;
  };

  const signal = async (target: Target, name: "SIGSTOP" | "SIGCONT") => {
    const { stack } = await stackOnce();
    // The S3 server runs in a child process of its own, so stopping it never freezes this one.
    // The postmaster first: once it is stopped, it forks no backend the loop below would miss.
    const root = target === "postgres" ? stack.postgres.pid : stack.s3.pid;
    process.kill(root, name);
    if (target === "postgres") for (const child of await childProcesses(root)) signalIfAlive(child, name);
    if (name === "SIGSTOP") paused.add(target);
    else paused.delete(target);
  };

  const server = http.createServer(async (request, response) => {
    const url = new URL(request.url ?? "/", "http://control");
    const target = url.searchParams.get("target");
    try {
      if (request.method === "POST" && url.pathname === "/stack") {
        const { stack } = await stackOnce();
        response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(stack.workerVars));
      } else if (request.method === "POST" && (url.pathname === "/pause" || url.pathname === "/resume")) {
        if (target !== "postgres" && target !== "s3") {
          response.writeHead(400).end("target must be postgres or s3");
          return;
        }
        await signal(target, url.pathname === "/pause" ? "SIGSTOP" : "SIGCONT");
        response.writeHead(204).end();
      } else {
        response.writeHead(404).end();
      }
    } catch (error) {
      response.writeHead(500).end(error instanceof Error ? error.message : String(error));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    async stop() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      if (!starting) return;
      const { stack, remove } = await starting;
      // A stopped process cannot shut down: wake whatever a failed test left paused.
      for (const target of paused) await signal(target, "SIGCONT");
      await stack.stop();
      await remove();
    },
  };
}
