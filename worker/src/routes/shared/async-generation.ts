/**
 * `Prefer: respond-async` and `Prefer: wait=N` (RFC 7240) on the generating requests: the
 * generation is accepted, queued and answered 202 with where to follow it, or, with wait=N, the
 * request holds on up to N seconds for its outcome.
 */
import { z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { MAX_PREFER_WAIT_SECONDS, PREFER_WAIT_POLL_MS } from "../../domain/limits";
import type { ProjectCaller } from "../../lib/access-types";
import { AppError } from "../../lib/errors";
import { logFailure } from "../../lib/log";
import type { HonoEnv } from "../../middleware/env";
import type { GenerationRequest } from "../../services/generation";
import {
  acceptQueuedGeneration,
  failQueuedGeneration,
  type GenerationStatus,
  hasEnded,
  readGenerationStatus,
} from "../../services/queued-generations";

/** What the client asked of the `Prefer` header: asynchronous, and how long to wait first. */
export interface AsyncPreference {
  /** Seconds to hold the request for the outcome; 0 answers 202 at once. */
  waitSeconds: number;
  /** The Preference-Applied header's value. */
  applied: string;
}

/** The request's `Prefer` header, declared on every route that honours it. */
export const PreferHeaders = z.object({
  prefer: z
    .string()
    .optional()
    .openapi({
      description: `respond-async: answer 202 at once and run the generation from the queue; wait=N (1-${MAX_PREFER_WAIT_SECONDS}): wait up to N seconds for the result, then 201 with it or 202. Other preferences are ignored (RFC 7240).`,
      example: "respond-async",
    }),
});

/** Sent with a 202 (and with a 201 that wait=N gave). */
export const acceptedResponseHeaders = {
  Location: { description: "The generation: GET it to follow its status", schema: { type: "string" } },
  "Preference-Applied": {
    description: "The preference honoured: respond-async, or wait=N",
    schema: { type: "string" },
  },
} as const;

/**
 * Reads `Prefer` (comma-separated preferences, each `token[=value]` with optional `;` parameters,
 * case-insensitive): null when it asks for neither respond-async nor wait. A wait that is not a
 * whole number of seconds from 1 to MAX_PREFER_WAIT_SECONDS is 400 VALIDATION_ERROR, before
 * anything is spent.
 */
export function asyncPreference(header: string | undefined): AsyncPreference | null {
  if (!header) return null;
  let respondAsync = false;
  let wait: string | undefined;
  for (const preference of header.split(",")) {
    const [token = "", ...value] = (preference.split(";")[0] ?? "").split("=");
    const name = token.trim().toLowerCase();
    if (name === "respond-async") respondAsync = true;
    if (name === "wait")
      wait = value
        .join("=")
        .trim()
        .replace(/^"(.*)"$/, "$1");
  }
  if (wait !== undefined) {
    const seconds = Number(wait);
    if (!/^\d+$/.test(wait) || seconds < 1 || seconds > MAX_PREFER_WAIT_SECONDS) {
      const message = `wait must be a whole number of seconds from 1 to ${MAX_PREFER_WAIT_SECONDS}, got "${wait}"`;
      throw new AppError("VALIDATION_ERROR", `Prefer: ${message}`, { errors: [{ field: "Prefer", message }] });
    }
    return { waitSeconds: seconds, applied: `wait=${seconds}` };
  }
  return respondAsync ? { waitSeconds: 0, applied: "respond-async" } : null;
}

/** What text-to-image answers for an asynchronous generation: where it stands and where to follow it. */
export const AcceptedGenerationSchema = z
  .object({
    generationId: z.string().uuid(),
    status: z
      .enum(["pending", "processing", "success", "failed"])
      .openapi({ description: "Where it stands; GET statusUrl for the whole generation, its image included" }),
    statusUrl: z.string().openapi({ example: "/api/v1/generations/9b2f4c7e-1d3a-4e5b-8c6d-7f8e9a0b1c2d" }),
  })
  .openapi("AcceptedGeneration");

/** Where a generation is followed. */
export const generationLocation = (generationId: string) => `/api/v1/generations/${generationId}`;

/**
 * Accepts an asynchronous generation (its quota and budget already spent by the request):
 * records it pending and queues its id. A generation that cannot be queued is failed and
 * refunded, and the request answers 503 QUEUE_UNAVAILABLE. With wait=N, holds on until the
 * generation ends or N seconds pass; says where it stands. Sets Location and Preference-Applied.
 */
export async function acceptAsync(
  c: Context<HonoEnv>,
  caller: ProjectCaller,
  request: GenerationRequest,
  preference: AsyncPreference,
): Promise<{ generationId: string; status: GenerationStatus }> {
  const { services } = c.var;
  const generationId = await acceptQueuedGeneration(services, caller, request, {
    budgetReservationId: request.budget?.reservationId ?? null,
    quotaWindowStart: caller.quota.windowStart,
  });
  try {
    await c.env.GENERATIONS_QUEUE.send({ generationId });
  } catch (cause) {
    logFailure("generation not queued", cause, { generationId });
    await failQueuedGeneration(services, generationId, {
      code: "QUEUE_UNAVAILABLE",
      message: "The generation could not be queued; its quota and budget were refunded",
    });
    throw new AppError("QUEUE_UNAVAILABLE", "The generation could not be queued; nothing was spent, try again shortly", {
      cause,
    });
  }
  c.header("Location", generationLocation(generationId));
  c.header("Preference-Applied", preference.applied);
  const status = preference.waitSeconds > 0 ? await waitForOutcome(c, generationId, preference.waitSeconds) : "pending";
  return { generationId, status };
}

/** Reads the generation's status until it ends or `seconds` pass. */
async function waitForOutcome(c: Context<HonoEnv>, generationId: string, seconds: number): Promise<GenerationStatus> {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const status = await readGenerationStatus(c.var.services.db, generationId);
    if (hasEnded(status) || Date.now() >= deadline) return status;
    await new Promise((resolve) => setTimeout(resolve, Math.min(PREFER_WAIT_POLL_MS, deadline - Date.now())));
  }
}
