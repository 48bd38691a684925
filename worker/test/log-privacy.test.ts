import { sql } from "drizzle-orm";
import { afterEach, beforeAll, beforeEach, describe, expect, it, type MockInstance, vi } from "vitest";
import { generateApiKey } from "../src/domain/api-key";
import { api, testEnv } from "./support/app";
import { createProject, insertKey, type TestKey, withDb } from "./support/fixtures";
import { GEMINI_ENV, marker, scriptFake } from "./support/generation";

/**
 * Background work that fails (audit records, prompt-cache writes, failure records) must not
 * log what the request carried. A database of its own refuses those writes with a trigger whose
 * message quotes the refused row, as PostgreSQL quotes offending values.
 */
const DATABASE_URL = testEnv.ISOLATED_DATABASE_URLS.log_privacy as string;
const env = { ...GEMINI_ENV, DATABASE_URL };
const CLIENT_IP = "203.0.113.219";

let key: TestKey;
let lines: string[];
let spies: MockInstance[];

beforeAll(async () => {
  key = await withDb(async (db) => {
    await db.execute(sql`
      create or replace function refuse_with_row() returns trigger language plpgsql as $$
      begin
        if tg_table_name <> 'generations' or new.status = 'failed' then
          raise exception 'refused row %', row_to_json(new)::text;
        end if;
        return new;
      end $$
    `);
    for (const table of ["audit_events", "prompt_cache", "generations"]) {
      await db.execute(sql.raw(`drop trigger if exists refuse_with_row on ${table}`));
      await db.execute(
        sql.raw(
          `create trigger refuse_with_row before insert or update on ${table} for each row execute function refuse_with_row()`,
        ),
      );
    }
    return insertKey(db, { type: "project", scope: await createProject(db) });
  }, DATABASE_URL);
});

beforeEach(() => {
  lines = [];
  spies = (["error", "warn", "log", "info", "debug"] as const).map((level) =>
    vi.spyOn(console, level).mockImplementation((...args: unknown[]) => {
      lines.push(args.map(String).join(" "));
    }),
  );
});

afterEach(() => {
  for (const spy of spies) spy.mockRestore();
});

/** What the request carried that no log line may repeat. */
function secrets(tag: string) {
  return { query: `utm_source=${tag}-campaign`, prompt: `a portrait of ${tag} by the sea`, ip: CLIENT_IP };
}

function expectLogged(message: string, carried: Record<string, string>) {
  const logged = lines.join("\n");
  // The failure is reported, or this test would prove nothing.
  expect(logged).toContain(message);
  for (const [what, value] of Object.entries(carried)) expect(logged, what).not.toContain(value);
}

describe("logs of failed background work", () => {
  it("a refused prompt-cache write logs neither the prompt, the query string nor the client address", async () => {
    const tag = marker();
    const carried = secrets(tag);
    await scriptFake({
      marker: tag,
      text: JSON.stringify({
        enhancedPrompt: `${carried.prompt}, golden hour`,
        detectedLanguage: "en",
        translated: false,
        improvements: ["lighting"],
      }),
    });
    const response = await api(`/api/enhance?${carried.query}`, {
      key: key.key,
      body: { prompt: carried.prompt, template: "general" },
      ip: carried.ip,
      env,
    });
    await response.arrayBuffer();

    expect(response.status).toBe(200);
    expectLogged("background task failed", carried);
  });

  it("a refused audit record of a failed authentication logs neither the query string nor the client address", async () => {
    const carried = { query: `ref=${marker()}-newsletter`, ip: CLIENT_IP };
    const unknownKey = (await generateApiKey("project")).plaintext;
    const response = await api(`/api/me?${carried.query}`, { key: unknownKey, ip: carried.ip, env });
    await response.arrayBuffer();

    expect(response.status).toBe(401);
    expectLogged("background task failed", carried);
  });

  it("a failed generation whose failure record is refused logs neither the prompt nor the query string", async () => {
    const tag = marker();
    const carried = secrets(tag);
    const response = await api(`/api/text-to-image?${carried.query}`, {
      key: key.key,
      body: { prompt: `${carried.prompt} [fake:status=400]`, autoEnhance: false },
      ip: carried.ip,
      env,
    });
    await response.arrayBuffer();

    expect(response.status).toBe(502);
    expectLogged("generation not marked failed", carried);
  });
});
