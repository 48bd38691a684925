import { ApiError, type GenerateContentParameters, type GenerateContentResponse, GoogleGenAI } from "@google/genai";
import type { Config } from "../../config";
import { AppError } from "../../lib/errors";
import { AttemptTimeoutError, RetriesExhaustedError, type RetryPolicy, withRetries } from "../../lib/retry";

/** Statuses worth another attempt: the request was fine, the service was not. */
const RETRYABLE_STATUSES = new Set([408, 429, 500, 502, 503, 504]);
const BACKOFF_BASE_MS = 500;
const BACKOFF_MAX_MS = 8000;
/** Seconds a client is told to wait when Gemini stays rate limited. */
export const UPSTREAM_RETRY_AFTER_SECONDS = 30;

export interface GeminiCall {
  response: GenerateContentResponse;
  attempts: number;
}

/** A Gemini client that retries, times out and turns every failure into a clear AppError. */
export interface GeminiClient {
  generateContent(params: GenerateContentParameters): Promise<GeminiCall>;
  /**
   * Reads a model's metadata (`GET /{version}/models/{model}`): free, so health checks may call
   * it. One attempt; failures are thrown as they come.
   */
  getModel(model: string, signal: AbortSignal): Promise<void>;
}

/**
 * 408, 429 and 5xx, and our own attempt timeout (a 408 in effect). A dropped connection is not
 * retried: the model may have generated, and billed, the image already.
 */
function isRetryable(error: unknown): boolean {
  if (error instanceof ApiError) return RETRYABLE_STATUSES.has(error.status);
  return error instanceof AttemptTimeoutError;
}

/** Maps the final failure; upstream bodies, hosts and keys never reach the message. */
function toAppError(failure: RetriesExhaustedError, model: string): AppError {
  const error = failure.lastError;
  const after = `after ${failure.attempts} attempt(s)`;
  if (error instanceof AttemptTimeoutError) {
    return new AppError("UPSTREAM_TIMEOUT", `${model} did not answer in time (${after})`, { cause: error });
  }
  if (error instanceof ApiError && error.status === 429) {
    return new AppError("UPSTREAM_RATE_LIMITED", `${model} is rate limiting requests (${after}); try again shortly`, {
      cause: error,
      headers: { "Retry-After": String(UPSTREAM_RETRY_AFTER_SECONDS) },
    });
  }
  if (error instanceof ApiError) {
    return new AppError("UPSTREAM_ERROR", `${model} answered HTTP ${error.status} (${after})`, { cause: error });
  }
  if (error instanceof SyntaxError) {
    return new AppError("UPSTREAM_BAD_RESPONSE", `${model} answered with something that is not a valid response`, {
      cause: error,
    });
  }
  return new AppError("UPSTREAM_ERROR", `${model} could not be reached (${after})`, { cause: error });
}

export function createGeminiClient(settings: Config["gemini"] & { apiKey: string }): GeminiClient {
  const ai = new GoogleGenAI({
    apiKey: settings.apiKey,
    ...(settings.baseUrl ? { httpOptions: { baseUrl: settings.baseUrl } } : {}),
  });
  const policy: RetryPolicy = {
    maxAttempts: settings.maxAttempts,
    attemptTimeoutMs: settings.timeoutMs,
    budgetMs: settings.timeoutMs * 2,
    baseDelayMs: BACKOFF_BASE_MS,
    maxDelayMs: BACKOFF_MAX_MS,
  };

  return {
    async generateContent(params) {
      try {
        const { value, attempts } = await withRetries(
          policy,
          (signal) => ai.models.generateContent({ ...params, config: { ...params.config, abortSignal: signal } }),
          isRetryable,
        );
        return { response: value, attempts };
      } catch (error) {
        if (error instanceof RetriesExhaustedError) throw toAppError(error, params.model);
        throw error;
      }
    },
    async getModel(model, signal) {
      await ai.models.get({ model, config: { abortSignal: signal } });
    },
  };
}
