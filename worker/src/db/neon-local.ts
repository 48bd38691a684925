/**
 * Settings that let @neondatabase/serverless reach a plain PostgreSQL through a local
 * Neon-protocol WebSocket proxy or SQL-over-HTTP server (dev stack, tests, docker-compose).
 * Neon itself needs none of them. Kept free of imports so the Node tooling (migrations, dev
 * stack) can share it.
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

/** The driver's settings for its HTTP path (`neon()`); module-global, like the socket ones. */
export interface NeonHttpSettings {
  fetchEndpoint: string | undefined;
  fetchFunction: typeof fetch;
}

/**
 * Where the HTTP path sends statements, and with what deadline. Neon's endpoint is derived from
 * the connection string's host (`https://api.<host>/sql`) when `endpoint` is unset; local stacks
 * name their own SQL-over-HTTP server (dev/stack/neon-http.ts). Every exchange gives up after
 * `timeoutMs`, connection setup included, so a silent server fails the request fast.
 */
export function neonHttpSettings(endpoint: string | undefined, timeoutMs: number): NeonHttpSettings {
  return {
    fetchEndpoint: endpoint,
    fetchFunction: (input, init) => {
      const deadline = AbortSignal.timeout(timeoutMs);
      return fetch(input, { ...init, signal: init?.signal ? AbortSignal.any([init.signal, deadline]) : deadline });
    },
  };
}
