import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { frontServices, startLatencyProxy } from "../../bench/latency-proxy.ts";

let echo: net.Server;
let echoAddress: string;

/** Opens a connection through `address` and collects what comes back. */
async function connect(address: string) {
  const [host, port] = address.split(":");
  const socket = net.connect({ host, port: Number(port), noDelay: true });
  await new Promise((resolve) => socket.once("connect", resolve));
  let received = "";
  socket.on("data", (chunk) => (received += chunk));
  return {
    socket,
    /** Resolves once `text` has been received in full, with the time it took from now. */
    async awaitText(text: string): Promise<number> {
      const started = performance.now();
      while (!received.includes(text)) await new Promise((resolve) => setTimeout(resolve, 1));
      return performance.now() - started;
    },
    received: () => received,
  };
}

beforeAll(async () => {
  echo = net.createServer((socket) => socket.pipe(socket));
  await new Promise<void>((resolve) => echo.listen(0, "127.0.0.1", resolve));
  echoAddress = `127.0.0.1:${(echo.address() as net.AddressInfo).port}`;
});

afterAll(() => new Promise((resolve) => echo.close(resolve)));

describe("the bench's latency proxy", () => {
  it("delays each exchange by a round trip, the first also by a handshake, keeping the bytes in order", async () => {
    const proxy = await startLatencyProxy({ target: echoAddress, oneWayDelayMs: 40 });
    try {
      const client = await connect(proxy.address);
      for (const part of ["a", "b", "c"]) client.socket.write(part);
      expect(await client.awaitText("abc")).toBeGreaterThanOrEqual(2 * 40 + 2 * 40 - 5);
      client.socket.write("d");
      const second = await client.awaitText("abcd");
      expect(second).toBeGreaterThanOrEqual(2 * 40 - 5);
      // No second handshake: the connection is up.
      expect(second).toBeLessThan(4 * 40);
      expect(client.received()).toBe("abcd");
      // Three writes before an answer are one exchange; the write after it is another.
      expect(proxy.counts()).toEqual({ connections: 1, exchanges: 2 });
      client.socket.destroy();
    } finally {
      await proxy.stop();
    }
  });

  it("forwards at once when the delay is set to 0, and counts from a reset", async () => {
    const proxy = await startLatencyProxy({ target: echoAddress, oneWayDelayMs: 0 });
    try {
      const client = await connect(proxy.address);
      client.socket.write("x");
      expect(await client.awaitText("x")).toBeLessThan(40);
      proxy.reset();
      client.socket.write("y");
      await client.awaitText("xy");
      expect(proxy.counts()).toEqual({ connections: 0, exchanges: 1 });
      client.socket.destroy();
    } finally {
      await proxy.stop();
    }
  });

  it("fronts every service a Worker variable names, by host:port or URL, leaving the rest alone", async () => {
    const fronted = await frontServices(
      { DATABASE_WS_PROXY: echoAddress, S3_ENDPOINT: `http://${echoAddress}`, S3_BUCKET: "banatie" },
      [
        { variable: "DATABASE_WS_PROXY", service: "database" },
        { variable: "S3_ENDPOINT", service: "storage" },
        { variable: "DATABASE_HTTP_URL", service: "database" },
      ],
      0,
    );
    try {
      expect(fronted.vars.DATABASE_WS_PROXY).toMatch(/^127\.0\.0\.1:\d+$/);
      expect(fronted.vars.DATABASE_WS_PROXY).not.toBe(echoAddress);
      expect(fronted.vars.S3_ENDPOINT).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(fronted.vars.S3_ENDPOINT).not.toBe(`http://${echoAddress}`);
      expect(fronted.vars.S3_BUCKET).toBe("banatie");
      expect(fronted.vars.DATABASE_HTTP_URL).toBeUndefined();

      const client = await connect((fronted.vars.S3_ENDPOINT ?? "").replace("http://", ""));
      client.socket.write("ping");
      await client.awaitText("ping");
      expect(fronted.counts()).toEqual({
        database: { connections: 0, exchanges: 0 },
        storage: { connections: 1, exchanges: 1 },
      });
      client.socket.destroy();
    } finally {
      await fronted.stop();
    }
  });
});
