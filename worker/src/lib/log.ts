import { toAppError } from "./errors";

/**
 * Structured error lines. They say what failed and why in the platform's own words, never in
 * words that may quote a request: drizzle quotes statements with their parameters (prompts,
 * client addresses) and PostgreSQL quotes offending values, so a database error is logged by
 * its kind and SQLSTATE only. Paths are logged without their query.
 */

/** Drivers sometimes quote a connection string; keep its credentials out of the logs. */
function redact(text: string | undefined): string | undefined {
  return text?.replace(/\/\/[^/\s@]+@/g, "//***@");
}

/** A PostgreSQL error: it carries a five-character SQLSTATE. */
function sqlState(error: Error): string | undefined {
  const code = (error as { code?: unknown }).code;
  return typeof code === "string" && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

/** The underlying error of a failure, as a log line may show it. */
export function describeCause(cause: unknown): { cause?: string; stack?: string } {
  if (!(cause instanceof Error)) return {};
  const state = sqlState(cause);
  if (state) return { cause: `${cause.name} (SQLSTATE ${state})` };
  return { cause: redact(`${cause.name}: ${cause.message}`), stack: redact(cause.stack) };
}

/** Writes one error line: `message` says what failed, `error` is described safely. */
export function logFailure(message: string, error: unknown, context: Record<string, string | null | undefined> = {}): void {
  const failure = toAppError(error);
  console.error(
    JSON.stringify({
      level: "error",
      ...context,
      message,
      code: failure.code,
      detail: failure.message,
      ...describeCause(failure.cause),
    }),
  );
}
