import http from "node:http";
import { listenOnLoopback } from "../stack/loopback-server.ts";

/**
 * A Stripe-protocol HTTP server for tests: the one endpoint the billing export calls,
 * `POST /v1/billing/meter_events`, answered as Stripe answers it.
 *
 * - `Authorization: Bearer <key>` must carry the key the fake was started with (401 otherwise).
 * - The form body is checked like Stripe checks it: `event_name`, `payload[stripe_customer_id]`
 *   and `payload[value]` (a whole number) are required, and `timestamp` (epoch seconds) must lie
 *   within the past 35 days and at most 5 minutes ahead. A failure is a 400 in Stripe's shape,
 *   `{ error: { type, code, message, param } }`.
 * - An `identifier` already recorded is refused as Stripe refuses it: 400 `invalid_request_error`,
 *   "An event already exists with identifier <id>.", with no `code`.
 * - An `Idempotency-Key` seen before replays the first answer (header `Idempotent-Replayed`),
 *   or is refused with 400 `idempotency_error` when the parameters differ.
 *
 * Test controls: `POST /__fake/fail {count, mode, status?}` makes the next `count` meter event
 * requests fail, with `mode: "status"` (answer `status`, 500 by default, without processing) or
 * `mode: "drop"` (process the request, then drop the connection: a lost response).
 * `GET /__fake/meter-events?customer=cus_...` lists the recorded events, `GET /__fake/requests`
 * every request received, and `POST /__fake/reset` forgets everything.
 */

export interface MeterEvent {
  identifier: string;
  event_name: string;
  payload: Record<string, string>;
  timestamp: number;
  created: number;
}

export interface ReceivedRequest {
  identifier?: string;
  idempotencyKey?: string;
  customer?: string;
  status: number | "dropped";
}

interface StripeError {
  type: "invalid_request_error" | "idempotency_error" | "api_error";
  code?: string;
  message: string;
  param?: string;
}

interface Answer {
  status: number;
  body: unknown;
}

interface Failures {
  count: number;
  mode: "status" | "drop";
  status: number;
}

export interface StripeFake {
  url: string;
  port: number;
  meterEvents: MeterEvent[];
  stop(): Promise<void>;
}

/** How far back and ahead Stripe takes a meter event's timestamp. */
const MAX_AGE_SECONDS = 35 * 24 * 60 * 60;
const MAX_AHEAD_SECONDS = 5 * 60;

const failure = (status: number, error: StripeError): Answer => ({ status, body: { error } });

const missing = (param: string) =>
  failure(400, {
    type: "invalid_request_error",
    code: "parameter_missing",
    message: `Missing required param: ${param}.`,
    param,
  });

/** Stripe's checks of a meter event, in its words; a valid one is recorded and returned. */
function createMeterEvent(form: URLSearchParams, events: MeterEvent[], now: number): Answer {
  const eventName = form.get("event_name");
  if (!eventName) return missing("event_name");
  const customer = form.get("payload[stripe_customer_id]");
  if (!customer) return missing("payload[stripe_customer_id]");
  const value = form.get("payload[value]");
  if (!value) return missing("payload[value]");
  if (!/^-?\d+$/.test(value)) {
    return failure(400, {
      type: "invalid_request_error",
      code: "parameter_invalid_integer",
      message: "Invalid integer: payload[value] must be a whole number.",
      param: "payload[value]",
    });
  }
  const timestampText = form.get("timestamp");
  const timestamp = timestampText ? Number(timestampText) : now;
  if (!Number.isInteger(timestamp) || timestamp < now - MAX_AGE_SECONDS || timestamp > now + MAX_AHEAD_SECONDS) {
    return failure(400, {
      type: "invalid_request_error",
      message: "Timestamp must be within the past 35 calendar days and no more than 5 minutes in the future.",
      param: "timestamp",
    });
  }
  const identifier = form.get("identifier") ?? crypto.randomUUID();
  if (events.some((event) => event.identifier === identifier)) {
    return failure(400, { type: "invalid_request_error", message: `An event already exists with identifier ${identifier}.` });
  }
  const payload: Record<string, string> = {};
  for (const [name, text] of form) {
    const key = name.match(/^payload\[(.+)\]$/)?.[1];
    if (key) payload[key] = text;
  }
  const event: MeterEvent = { identifier, event_name: eventName, payload, timestamp, created: now };
  events.push(event);
  return { status: 200, body: { object: "billing.meter_event", livemode: false, ...event } };
}

async function readBody(req: http.IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const part of req) chunks.push(part as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

export async function startStripeFake(options: { port?: number; secretKey: string }): Promise<StripeFake> {
  const meterEvents: MeterEvent[] = [];
  const requests: ReceivedRequest[] = [];
  const replays = new Map<string, { body: string; answer: Answer }>();
  let failures: Failures = { count: 0, mode: "status", status: 500 };

  const server = http.createServer(async (req, res) => {
    const send = (answer: Answer, headers: Record<string, string> = {}) => {
      res.writeHead(answer.status, { "content-type": "application/json", ...headers });
      res.end(JSON.stringify(answer.body));
    };
    const url = new URL(req.url ?? "/", "http://fake");

    if (req.method === "GET" && url.pathname === "/__fake/meter-events") {
      const customer = url.searchParams.get("customer");
      return send({
        status: 200,
        body: meterEvents.filter((event) => !customer || event.payload.stripe_customer_id === customer),
      });
    }
    if (req.method === "GET" && url.pathname === "/__fake/requests") return send({ status: 200, body: requests });
    if (req.method === "POST" && url.pathname === "/__fake/fail") {
      const asked = JSON.parse(await readBody(req)) as Partial<Failures>;
      failures = { count: asked.count ?? 1, mode: asked.mode ?? "status", status: asked.status ?? 500 };
      return send({ status: 200, body: { ok: true } });
    }
    if (req.method === "POST" && url.pathname === "/__fake/reset") {
      meterEvents.length = 0;
      requests.length = 0;
      replays.clear();
      failures = { count: 0, mode: "status", status: 500 };
      return send({ status: 200, body: { ok: true } });
    }

    if (req.method !== "POST" || url.pathname !== "/v1/billing/meter_events") {
      return send(
        failure(404, { type: "invalid_request_error", message: `Unrecognized request URL (${req.method}: ${url.pathname}).` }),
      );
    }
    const body = await readBody(req);
    const form = new URLSearchParams(body);
    const idempotencyKey = req.headers["idempotency-key"] as string | undefined;
    const received: ReceivedRequest = {
      identifier: form.get("identifier") ?? undefined,
      idempotencyKey,
      customer: form.get("payload[stripe_customer_id]") ?? undefined,
      status: 0,
    };
    requests.push(received);
    const answer = (result: Answer, headers?: Record<string, string>) => {
      received.status = result.status;
      send(result, headers);
    };

    if (req.headers.authorization !== `Bearer ${options.secretKey}`) {
      return answer(
        failure(401, {
          type: "invalid_request_error",
          message: req.headers.authorization ? "Invalid API Key provided." : "You did not provide an API key.",
        }),
      );
    }
    const failing = failures.count > 0 ? failures : undefined;
    if (failing) failing.count -= 1;
    if (failing?.mode === "status") {
      return answer(failure(failing.status, { type: "api_error", message: "An unknown error occurred." }));
    }

    const replay = idempotencyKey ? replays.get(idempotencyKey) : undefined;
    let result: Answer;
    let headers: Record<string, string> = {};
    if (replay && replay.body !== body) {
      result = failure(400, {
        type: "idempotency_error",
        message: `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${idempotencyKey}' if you meant to execute a different request.`,
      });
    } else if (replay) {
      result = replay.answer;
      headers = { "idempotent-replayed": "true" };
    } else {
      result = createMeterEvent(form, meterEvents, Math.floor(Date.now() / 1000));
      // Stripe keeps the answer of a request its endpoint ran, not of one that failed validation.
      const ran = result.status === 200 || (result.body as { error?: StripeError }).error?.param === undefined;
      if (idempotencyKey && ran) replays.set(idempotencyKey, { body, answer: result });
    }

    if (failing?.mode === "drop") {
      received.status = "dropped";
      // Processed, but the caller never hears: its retry must not bill a second time.
      return req.socket.destroy();
    }
    answer(result, headers);
  });

  return {
    ...(await listenOnLoopback(server, options.port)),
    meterEvents,
  };
}
