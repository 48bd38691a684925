/**
 * The SQL-over-HTTP server (neon-http.ts) on its own, for docker-compose.yml: the Worker sends its
 * statements here as it sends them to Neon's endpoint. Settings come from the environment:
 * `NEON_HTTP_PORT` (default 80) and `NEON_HTTP_ALLOW`, the PostgreSQL servers a connection string
 * may name (comma-separated host:port, like the WebSocket proxy's allow-list).
 */
import { startNeonHttpServer } from "./neon-http.ts";

const port = Number(process.env.NEON_HTTP_PORT ?? 80);
const allowed = new Set((process.env.NEON_HTTP_ALLOW ?? "").split(",").filter(Boolean));
if (allowed.size === 0) throw new Error("NEON_HTTP_ALLOW must name at least one host:port");

const server = await startNeonHttpServer({
  port,
  // Inside a container: published to the host by the compose file's port mapping.
  host: "0.0.0.0",
  allowAddress: (host, hostPort) => allowed.has(`${host}:${hostPort}`),
});
console.log(`SQL-over-HTTP server on port ${server.port}, for ${[...allowed].join(", ")}`);
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => void server.stop().then(() => process.exit(0)));
}
