/**
 * Settings that let @neondatabase/serverless reach a plain PostgreSQL through a local
 * Neon-protocol WebSocket proxy (dev stack, tests, docker-compose). Neon itself needs none of
 * them. Kept free of imports so the Node tooling (migrations, dev stack) can share it.
 */
export interface NeonSocketSettings {
  wsProxy: string | ((host: string, port: number | string) => string) | undefined;
  useSecureWebSocket: boolean;
  pipelineTLS: boolean;
  pipelineConnect: "password" | false;
}

export function neonSocketSettings(proxy: string | undefined): NeonSocketSettings {
  if (!proxy) {
    return { wsProxy: undefined, useSecureWebSocket: true, pipelineTLS: false, pipelineConnect: "password" };
  }
  // The local proxy speaks plain ws. The password is pipelined with the startup message as
  // against Neon, which needs the server to ask for a cleartext password (pg_hba `password`,
  // as the dev stack and docker-compose.yml set up): SCRAM would answer "invalid SASL mechanism".
  return {
    wsProxy: (host, port) => `${proxy}/v1?address=${host}:${port}`,
    useSecureWebSocket: false,
    pipelineTLS: false,
    pipelineConnect: "password",
  };
}
