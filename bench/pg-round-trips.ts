import type { ObservedSqlRequest } from "../dev/stack/neon-http.ts";

/**
 * Counts the Worker's round trips to PostgreSQL. Over HTTP (most statements), each request to the
 * SQL-over-HTTP server is one. Over a WebSocket session, from the bytes the proxy forwards: every
 * Sync ('S') or simple Query ('Q') ends with the server's ReadyForQuery, so each is one round
 * trip; the startup message and password ('p') messages are connection setup.
 */
export class PgRoundTrips {
  queries = 0;
  setup = 0;
  private readonly connections = new Map<number, { started: boolean; pending: Buffer }>();

  observeHttp = (_request: ObservedSqlRequest): void => {
    this.queries++;
  };

  observe = (connection: number, chunk: Buffer): void => {
    const state = this.connections.get(connection) ?? { started: false, pending: Buffer.alloc(0) };
    this.connections.set(connection, state);
    state.pending = Buffer.concat([state.pending, chunk]);
    for (;;) {
      if (!state.started) {
        if (state.pending.length < 4) return;
        const length = state.pending.readUInt32BE(0);
        if (state.pending.length < length) return;
        state.pending = state.pending.subarray(length);
        state.started = true;
        this.setup++;
        continue;
      }
      if (state.pending.length < 5) return;
      const type = String.fromCharCode(state.pending[0] as number);
      const length = state.pending.readUInt32BE(1) + 1;
      if (state.pending.length < length) return;
      state.pending = state.pending.subarray(length);
      if (type === "S" || type === "Q") this.queries++;
      if (type === "p") this.setup++;
    }
  };

  snapshot(): { queries: number; setup: number } {
    return { queries: this.queries, setup: this.setup };
  }
}
