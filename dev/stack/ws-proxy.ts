import net from "node:net";
import { WebSocketServer } from "ws";

export interface WsProxy {
  port: number;
  stop(): Promise<void>;
}

/**
 * A Neon-protocol WebSocket-to-TCP proxy: the same job as Neon's wsproxy, so
 * @neondatabase/serverless can reach a plain PostgreSQL. Each WebSocket carries one
 * PostgreSQL connection to the `address=host:port` it names, if `allowAddress` accepts it.
 */
export interface WsProxyOptions {
  port: number;
  allowAddress: (host: string, port: number) => boolean;
  /** Sees every chunk a client sends, per connection (benchmarks count database round trips with it). */
  observeClient?: (connection: number, chunk: Buffer) => void;
}

export async function startWsProxy(options: WsProxyOptions): Promise<WsProxy> {
  const server = new WebSocketServer({ host: "127.0.0.1", port: options.port, perMessageDeflate: false });
  const sockets = new Set<net.Socket>();
  let connections = 0;

  server.on("connection", (ws, request) => {
    const address = new URL(request.url ?? "/", "http://proxy").searchParams.get("address") ?? "";
    const match = address.match(/^([\w.-]+):(\d{1,5})$/);
    const host = match?.[1] ?? "";
    const port = Number(match?.[2]);
    if (!match || !options.allowAddress(host, port)) {
      ws.close(1008, "address not allowed");
      return;
    }
    const connection = ++connections;
    // No Nagle delay: the driver sends small, latency-bound protocol messages.
    const socket = net.connect({ host, port, noDelay: true });
    sockets.add(socket);
    socket.on("data", (chunk) => ws.send(chunk));
    socket.on("close", () => {
      sockets.delete(socket);
      ws.close();
    });
    socket.on("error", () => ws.terminate());
    ws.on("message", (data: Buffer) => {
      options.observeClient?.(connection, data);
      socket.write(data);
    });
    ws.on("close", () => socket.destroy());
    ws.on("error", () => socket.destroy());
  });

  await new Promise<void>((resolve, reject) => {
    server.once("listening", resolve);
    server.once("error", reject);
  });
  const { port } = server.address() as net.AddressInfo;
  return {
    port,
    stop: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        for (const client of server.clients) client.terminate();
        server.close(() => resolve());
      }),
  };
}
