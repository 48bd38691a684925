import { DrizzleQueryError } from "drizzle-orm/errors";

/**
 * Messages of the errors the WebSocket driver raises when the connection, not the statement,
 * failed: it could not connect in time, the connection dropped or was closed, or a statement got
 * no answer in time. They carry no SQLSTATE; transactions surface them unwrapped, when their
 * connection cannot be opened. Kept apart from the client so that recognising them pulls in no
 * driver.
 */
const CONNECTION_FAILURE =
  /^(Connection terminated|timeout exceeded when trying to connect|Query read timeout|Client has encountered a connection error|Client was closed and is not queryable)/;

/**
 * The HTTP driver's failures of the exchange rather than the statement. PostgreSQL's own errors
 * come back as a 400 carrying their SQLSTATE (`code`); everything else the driver raises (the
 * fetch failed or ran out of time, the endpoint answered 5xx, 429 or 408, or a 400 of its own
 * such as a compute that could not be reached) says nothing of whether the statement ran.
 */
function isHttpExchangeFailure(error: Error): boolean {
  return error.name === "NeonDbError" && !(error as { code?: unknown }).code;
}

/**
 * The connection failed, so the server may or may not have carried out the statement (a write
 * may still commit when a paused server wakes). Looks through drizzle's wrapper of the error.
 */
export function isConnectionFailure(error: unknown): boolean {
  const driverError = error instanceof DrizzleQueryError ? error.cause : error;
  return driverError instanceof Error && (CONNECTION_FAILURE.test(driverError.message) || isHttpExchangeFailure(driverError));
}
