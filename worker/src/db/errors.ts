import { DrizzleQueryError } from "drizzle-orm/errors";

/**
 * Messages of the errors the driver raises when the connection, not the statement, failed: it
 * could not connect in time, the connection dropped or was closed, or a statement got no answer
 * in time. They carry no SQLSTATE; transactions surface them unwrapped, when their connection
 * cannot be opened. Kept apart from the client so that recognising them pulls in no driver.
 */
const CONNECTION_FAILURE =
  /^(Connection terminated|timeout exceeded when trying to connect|Query read timeout|Client has encountered a connection error|Client was closed and is not queryable)/;

/**
 * The connection failed, so the server may or may not have carried out the statement (a write
 * may still commit when a paused server wakes). Looks through drizzle's wrapper of the error.
 */
export function isConnectionFailure(error: unknown): boolean {
  const driverError = error instanceof DrizzleQueryError ? error.cause : error;
  return driverError instanceof Error && CONNECTION_FAILURE.test(driverError.message);
}
