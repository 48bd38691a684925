import http from "node:http";
import { type LoopbackServer, listenOnLoopback } from "../stack/loopback-server.ts";

/**
 * A webhook receiver for tests: it records every request to `/hooks/<inbox>` (method, headers,
 * raw body) and answers each with the next scripted answer of that inbox, or 204.
 *
 * Test controls: `PUT /__fake/inboxes/<inbox>/script` with a JSON array of answers, each
 * `{ status, location? }` (a `Location` header, for redirects) or `{ hang: true }` (never answer);
 * `GET /__fake/inboxes/<inbox>/requests` lists what the inbox received, oldest first.
 * Inboxes keep test files apart: each test uses names of its own.
 */

export interface ReceivedWebhook {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string;
}

export type ScriptedAnswer = { status: number; location?: string } | { hang: true };

export type WebhookReceiver = LoopbackServer;

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

export async function startWebhookReceiver(options: { port?: number } = {}): Promise<WebhookReceiver> {
  const received = new Map<string, ReceivedWebhook[]>();
  const scripts = new Map<string, ScriptedAnswer[]>();

  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url ?? "/", "http://receiver");
    const body = await readBody(req);
    const control = /^\/__fake\/inboxes\/([\w.-]+)\/(script|requests)$/.exec(url.pathname);
    if (control) {
      const [, inbox = "", action] = control;
      if (action === "script" && req.method === "PUT") scripts.set(inbox, JSON.parse(body) as ScriptedAnswer[]);
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify(action === "requests" ? (received.get(inbox) ?? []) : { ok: true }));
      return;
    }
    const hook = /^\/hooks\/([\w.-]+)/.exec(url.pathname);
    if (!hook) {
      res.writeHead(404).end();
      return;
    }
    const inbox = hook[1] ?? "";
    const headers = Object.fromEntries(Object.entries(req.headers).map(([name, value]) => [name, String(value)]));
    received.set(inbox, [...(received.get(inbox) ?? []), { method: req.method ?? "", path: url.pathname, headers, body }]);
    const answer = scripts.get(inbox)?.shift() ?? { status: 204 };
    if ("hang" in answer) return; // the connection stays open until the client gives up
    res.writeHead(answer.status, answer.location ? { location: answer.location } : {});
    res.end();
  });
  return listenOnLoopback(server, options.port);
}
