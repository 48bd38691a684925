/**
 * A generation's lifecycle as webhook events: the queue consumer reports an asynchronous
 * generation started, succeeded or failed (a cancel and a dead letter included); a synchronous
 * request reports it succeeded or failed (it has no "started" worth telling: the caller holds the
 * request and gets the outcome in the answer). Each event is queued in the background once the
 * response is ready (`afterResponse`), so it adds no latency, and goes where queueWebhookEvent says: the
 * request's own webhook if it named one, else the project's endpoint, when subscribed. A
 * regeneration in place reports as a synchronous request does, under the generation's id.
 */
import { sql } from "drizzle-orm";
import type { Database } from "../db/client";
import type { QueuedRequest } from "../db/schema";
import { logFailure } from "../lib/log";
import { queueWebhookEvent, type WebhookEvent, type WebhookQueue } from "./webhooks/deliveries";
import { WEBHOOK_EVENTS, type WebhookEventType } from "./webhooks/events";

/** Where a generation's events go, fixed by the request that made it (kept on an asynchronous one's row). */
export interface GenerationNotify {
  /** What the image's URL starts with (delivery/image-urls.ts): the consumer has no request to read it from. */
  imageUrlBase: string;
  /** The request's own webhook URL, sent to instead of the project's endpoint. */
  webhookUrl?: string;
  /** The events the request wants; all of them when omitted. */
  webhookEvents?: readonly WebhookEventType[];
}

export interface GenerationEvent {
  type: WebhookEventType;
  generationId: string;
  /** A synchronous request's own; an asynchronous generation's is read from its row. */
  notify?: GenerationNotify;
  /** Why a regeneration failed: the generation keeps its image, so its row records no error. */
  errorCode?: string;
}

/** What events need of a generation's dependencies (GenerationDeps has them all; declared here, as generation.ts emits events). */
export interface GenerationEventDeps {
  db: Database;
  afterResponse: (task: () => Promise<unknown>) => void;
  webhookQueue: WebhookQueue;
}

/** The status a generation has when it emits each event, as the v1 API spells it. */
const EVENT_STATUS: Record<WebhookEventType, string> = {
  "generation.started": "processing",
  "generation.succeeded": "success",
  "generation.failed": "failed",
};

/** Queues the event's webhook after the current work; its timestamp is now, so events keep their order. */
export function onGenerationEvent(deps: GenerationEventDeps, event: GenerationEvent): void {
  const at = new Date();
  deps.afterResponse(() =>
    queueGenerationEvent(deps, event, at).catch((error: unknown) => {
      logFailure("generation event not queued", error, { generationId: event.generationId, event: event.type });
    }),
  );
}

interface EventRow extends Record<string, unknown> {
  project_id: string;
  error_code: string | null;
  storage_key: string | null;
  cost_usd_micros: number;
  queued_request: QueuedRequest | null;
  /** The project's endpoint is enabled and subscribed to the event. */
  subscribed: boolean;
}

/**
 * What the event tells of the generation, read in one statement: its project, outcome, image and
 * billed cost, and whether the project's endpoint listens, so that a project without webhooks
 * costs this one statement.
 */
async function readEventRow(db: Database, event: GenerationEvent): Promise<EventRow | undefined> {
  const result = await db.execute<EventRow>(sql`
    select g.project_id, g.error_code, g.queued_request, i.storage_key,
           coalesce((select sum(u.cost_usd_micros) from usage_events u
                     where u.generation_id = g.id and u.billable), 0)::float8 as cost_usd_micros,
           exists (select 1 from webhook_endpoints e
                   where e.project_id = g.project_id and e.enabled and e.url is not null
                     and ${event.type} = any(e.events)) as subscribed
    from generations g
    left join images i on i.generation_id = g.id and i.deleted_at is null
    where g.id = ${event.generationId}
  `);
  return result.rows[0];
}

async function queueGenerationEvent(deps: GenerationEventDeps, event: GenerationEvent, at: Date): Promise<void> {
  const row = await readEventRow(deps.db, event);
  if (!row) return;
  const notify = event.notify ?? row.queued_request?.notify;
  const wanted = notify?.webhookEvents ?? WEBHOOK_EVENTS;
  // Nobody listens: neither the request's own webhook nor the project's endpoint (queueWebhookEvent decides the rest).
  if (!wanted.includes(event.type) || !(notify?.webhookUrl || row.subscribed)) return;
  const succeeded = event.type === "generation.succeeded";
  const failed = event.type === "generation.failed";
  const webhookEvent: WebhookEvent = {
    projectId: row.project_id,
    type: event.type,
    generation: {
      id: event.generationId,
      status: EVENT_STATUS[event.type],
      imageUrl: succeeded && row.storage_key && notify ? `${notify.imageUrlBase}${row.storage_key}` : null,
      // Unknown until it ends; a failed run is charged nothing (a failed regeneration's row keeps what earlier runs cost).
      costUsdMicros: event.type === "generation.started" ? null : failed ? 0 : row.cost_usd_micros,
      errorCode: failed ? (event.errorCode ?? row.error_code) : null,
    },
    ...(notify?.webhookUrl ? { webhook: { url: notify.webhookUrl, events: wanted } } : {}),
  };
  await queueWebhookEvent({ db: deps.db, queue: deps.webhookQueue, now: at }, webhookEvent);
}
