import type http from "node:http";
import type { AddressInfo } from "node:net";

/** A local HTTP server listening on loopback: where to reach it, and how to stop it at once. */
export interface LoopbackServer {
  url: string;
  port: number;
  stop(): Promise<void>;
}

/**
 * Listens on 127.0.0.1 (`port` 0 picks a free one). Stopping closes open keep-alive connections
 * too, so a stopped fake never waits for its clients to idle out.
 */
export async function listenOnLoopback(server: http.Server, port = 0): Promise<LoopbackServer> {
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve());
  });
  const address = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${address.port}`,
    port: address.port,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
