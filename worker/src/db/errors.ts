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
 * The HTTP driver's failures of the exchange rather than the statement: the fetch itself failed
 * or ran out of time (the driver keeps what fetch threw as `sourceError`), or the endpoint
 * answered 5xx (it could not reach the database, or lost it mid-statement). A PostgreSQL error
 * is a 400 with its SQLSTATE instead.
 */
function isHttpExchangeFailure(error: Error): boolean {
  if (error.name !== "NeonDbError") return false;
  return (
    (error as { sourceError?: unknown }).sourceError !== undefined || /^Server error \(HTTP status 5\d\d\)/.test(error.message)
  );
}

/**
 * The connection failed, so the server may or may not have carried out the statement (a write
 * may still commit when a paused server wakes). Looks through drizzle's wrapper of the error.
 */
export function isConnectionFailure(error: unknown): boolean {
  const driverError = error instanceof DrizzleQueryError ? error.cause : error;
  return driverError instanceof Error && (CONNECTION_FAILURE.test(driverError.message) || isHttpExchangeFailure(driverError));
}
