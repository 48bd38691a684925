import net from "node:net";

/**
 * What a latency proxy has seen since it started (or since `reset`): connections opened, and
 * exchanges, each a turn of the conversation: the client sending after the server has spoken
 * (or first). Requests sent back to back before an answer (a pipeline) are one exchange;
 * requests on two connections at once are two, although they cost one round trip of time.
 */
export interface LatencyCounts {
  connections: number;
  exchanges: number;
}

export interface LatencyProxy {
  /** `127.0.0.1:port`, to put where the target's host and port were. */
  address: string;
  port: number;
  /** The delay each chunk waits in each direction; 0 forwards at once. Takes effect for new chunks. */
  oneWayDelayMs: number;
  counts(): LatencyCounts;
  reset(): void;
  stop(): Promise<void>;
}

export interface LatencyProxyOptions {
  /** Where to forward, `host:port`. */
  target: string;
  oneWayDelayMs: number;
  /** 0 picks a free port. */
  port?: number;
}

/**
 * Forwards one direction of a connection, each chunk `delay()` ms after it arrived, in order;
 * the end of the stream follows the last chunk. A constant delay keeps the order on its own, but
 * the delay can change between chunks, so a chunk never leaves before the one ahead of it.
 */
function delayedPipe(from: net.Socket, to: net.Socket, delay: () => number, onChunk: () => void): void {
  const queue: { due: number; chunk: Buffer | null }[] = [];
  let timer: NodeJS.Timeout | undefined;
  const flush = () => {
    timer = undefined;
    const now = performance.now();
    while (queue.length > 0 && (queue[0]?.due ?? 0) <= now) {
      const { chunk } = queue.shift() as { chunk: Buffer | null };
      if (chunk === null) to.end();
      else if (!to.destroyed) to.write(chunk);
    }
    schedule();
  };
  const schedule = () => {
    const next = queue[0];
    if (next && !timer) timer = setTimeout(flush, Math.max(0, next.due - performance.now()));
  };
  const push = (chunk: Buffer | null) => {
    const last = queue.at(-1)?.due ?? 0;
    queue.push({ due: Math.max(last, performance.now() + delay()), chunk });
    if (delay() === 0 && queue.length === 1) flush();
    else schedule();
  };
  from.on("data", (chunk: Buffer) => {
    onChunk();
    push(chunk);
  });
  from.on("end", () => push(null));
  from.on("close", () => {
    if (queue.length === 0) to.destroy();
  });
}

/**
 * A TCP proxy that makes a local service as far away as one at the edge's distance: every chunk
 * waits `oneWayDelayMs` in each direction, so each round trip a client makes costs twice that.
 * It knows nothing of the protocol, so it fronts the WebSocket proxy, an HTTP endpoint or the S3
 * server alike. A new connection first waits one round trip, as a TCP handshake does, before
 * anything is forwarded.
 */
export async function startLatencyProxy(options: LatencyProxyOptions): Promise<LatencyProxy> {
  const [host = "", port = ""] = options.target.split(/:(?=\d+$)/);
  const sockets = new Set<net.Socket>();
  let counts: LatencyCounts = { connections: 0, exchanges: 0 };

  const server = net.createServer((client) => {
    counts.connections++;
    client.setNoDelay(true);
    client.pause();
    let lastSpeaker: "client" | "server" = "server";
    const upstream = net.connect({ host, port: Number(port), noDelay: true });
    sockets.add(client).add(upstream);
    const forget = () => {
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on("close", forget);
    client.on("error", () => upstream.destroy());
    upstream.on("error", () => client.destroy());
    delayedPipe(
      client,
      upstream,
      () => proxy.oneWayDelayMs,
      () => {
        if (lastSpeaker === "server") counts.exchanges++;
        lastSpeaker = "client";
      },
    );
    delayedPipe(
      upstream,
      client,
      () => proxy.oneWayDelayMs,
      () => {
        lastSpeaker = "server";
      },
    );
    // The handshake: the client may send only once its connection is up, a round trip later.
    setTimeout(() => client.resume(), 2 * proxy.oneWayDelayMs);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", resolve);
  });
  const listening = (server.address() as net.AddressInfo).port;

  const proxy: LatencyProxy = {
    address: `127.0.0.1:${listening}`,
    port: listening,
    oneWayDelayMs: options.oneWayDelayMs,
    counts: () => ({ ...counts }),
    reset: () => {
      counts = { connections: 0, exchanges: 0 };
    },
    stop: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
  return proxy;
}

/**
 * The one-way delay asked for on the command line (`--latency 20`) or in BENCH_LATENCY_MS;
 * 20 ms each way unless told, a round trip from an edge location to a database in the region.
 */
export function oneWayDelayFromArgs(args: string[]): { delayMs: number; rest: string[] } {
  const index = args.indexOf("--latency");
  const fromFlag = index >= 0 ? args[index + 1] : undefined;
  const delayMs = Number(fromFlag ?? process.env.BENCH_LATENCY_MS ?? 20);
  if (!Number.isFinite(delayMs) || delayMs <= 0) throw new Error(`--latency needs a positive number of ms, not ${fromFlag}`);
  return { delayMs, rest: index >= 0 ? [...args.slice(0, index), ...args.slice(index + 2)] : args };
}

/** Services a Worker reaches over the network, by the variable that tells it where. */
export interface RemoteService {
  /** A Worker variable holding `host:port` or a URL. */
  variable: string;
  /** What the counts are reported under; several variables may name one service. */
  service: string;
}

export interface FrontedServices {
  /** The Worker's variables, each remote service's address replaced by its proxy's. */
  vars: Record<string, string>;
  setOneWayDelay(ms: number): void;
  /** Counts per service, summed over its proxies. */
  counts(): Record<string, LatencyCounts>;
  reset(): void;
  stop(): Promise<void>;
}

/** Splits `host:port` or a URL into what a proxy targets and how to write its own address back. */
function parseAddress(value: string): { target: string; replaceWith(address: string): string } {
  if (!value.includes("://")) return { target: value, replaceWith: (address) => address };
  const url = new URL(value);
  const port = url.port || (url.protocol === "https:" ? "443" : "80");
  return {
    target: `${url.hostname}:${port}`,
    replaceWith: (address) => {
      const proxied = new URL(value);
      proxied.host = address;
      // URL adds a slash to a bare origin: keep the value as it was written.
      return value.endsWith("/") ? proxied.toString() : proxied.toString().replace(/\/$/, "");
    },
  };
}

/**
 * Puts a latency proxy in front of each remote service the variables name (those set), so a
 * Worker started with the returned `vars` pays a round trip's delay for each exchange with them.
 */
export async function frontServices(
  vars: Record<string, string>,
  services: readonly RemoteService[],
  oneWayDelayMs: number,
): Promise<FrontedServices> {
  const proxied = { ...vars };
  const proxies: { service: string; proxy: LatencyProxy }[] = [];
  for (const { variable, service } of services) {
    const value = vars[variable];
    if (!value) continue;
    const address = parseAddress(value);
    const proxy = await startLatencyProxy({ target: address.target, oneWayDelayMs });
    proxies.push({ service, proxy });
    proxied[variable] = address.replaceWith(proxy.address);
  }
  return {
    vars: proxied,
    setOneWayDelay: (ms) => {
      for (const { proxy } of proxies) proxy.oneWayDelayMs = ms;
    },
    counts: () => {
      const totals: Record<string, LatencyCounts> = {};
      for (const { service, proxy } of proxies) {
        const total = totals[service] ?? { connections: 0, exchanges: 0 };
        const counts = proxy.counts();
        totals[service] = { connections: total.connections + counts.connections, exchanges: total.exchanges + counts.exchanges };
      }
      return totals;
    },
    reset: () => {
      for (const { proxy } of proxies) proxy.reset();
    },
    stop: async () => {
      await Promise.all(proxies.map(({ proxy }) => proxy.stop()));
    },
  };
}
