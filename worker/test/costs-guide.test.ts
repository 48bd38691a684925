import { beforeAll, describe, expect, it } from "vitest";
/** The costs guide holds its commands and answers to the API: each runs as pasted. */
import guide from "../../site/src/pages/docs/costs.md?raw";
import { api, readProblem } from "./support/app";
import { insertKey, type TestKey, withDb } from "./support/fixtures";
import { freshProjectKey, GEMINI_ENV } from "./support/generation";

interface Curl {
  method: string;
  path: string;
  body?: unknown;
}

/** The curl commands of the guide's `sh` blocks: method, path and JSON body. */
function curls(): Curl[] {
  return [...guide.matchAll(/```sh\n([\s\S]*?)```/g)].map(([, block = ""]) => {
    const command = block.replace(/\\\n\s*/g, " ");
    const url = command.match(/"?(http:\/\/127\.0\.0\.1:8787[^\s"]+)"?/)?.[1];
    if (!url) throw new Error(`no URL in ${command}`);
    const body = command.match(/-d '([^']*)'/)?.[1];
    return {
      method: command.match(/-X (\w+)/)?.[1] ?? (body ? "POST" : "GET"),
      path: url.replace("http://127.0.0.1:8787", ""),
      body: body === undefined ? undefined : JSON.parse(body),
    };
  });
}

/** The guide's `json` blocks, parsed. */
const answers = () => [...guide.matchAll(/```json\n([\s\S]*?)```/g)].map(([, block = ""]) => JSON.parse(block));

let master: TestKey;

beforeAll(async () => {
  master = await withDb((db) => insertKey(db, { type: "master" }));
});

describe("the costs guide (site/src/pages/docs/costs.md)", () => {
  it("has commands that each succeed as pasted, with the keys and project id filled in", async () => {
    const { scope, key } = await freshProjectKey();
    const commands = curls();
    expect(commands.length).toBeGreaterThanOrEqual(6);
    for (const command of commands) {
      const filled = command.path.replace("$PROJECT_ID", scope.project.id);
      const caller = command.path.startsWith("/api/admin") ? master.key : key.key;
      const response = await api(filled, { method: command.method, key: caller, body: command.body, env: GEMINI_ENV });
      expect(response.status, `${command.method} ${filled}: ${await response.clone().text()}`).toBeLessThan(300);
    }
  });

  it("shows the quote the API gives for its example body, figure for figure", async () => {
    const { key } = await freshProjectKey();
    const quoteCommand = curls().find((command) => command.path === "/api/quotes");
    const response = await api("/api/quotes", { key: key.key, body: quoteCommand?.body, env: GEMINI_ENV });
    expect(answers()[0]).toEqual(await response.json());
  });

  it("shows the 402 problem a budget gives, with every member the API sends", async () => {
    const { key } = await freshProjectKey();
    await api(`/api/admin/keys/${key.id}`, { method: "PATCH", key: master.key, body: { monthlyBudgetUsd: 0.01 } });
    // The guide's quote example: a budget refuses the same upper bound.
    const body = curls().find((command) => command.path === "/api/quotes")?.body;
    const response = await api("/api/text-to-image", { key: key.key, body, env: GEMINI_ENV });
    const problem = await readProblem(response);
    const shown = answers()[1];

    expect(response.status).toBe(402);
    expect({ ...shown, requestId: problem.requestId }).toEqual({
      ...problem,
      detail: shown.detail,
      // The guide's message is its detail, as in every problem.
      error: { ...problem.error, message: shown.detail },
      budget: { ...problem.budget, monthlyBudgetUsd: 0.1, spentUsd: 0.08, reservedUsd: 0, resetAt: shown.budget.resetAt },
    });
    expect(problem.detail).toMatch(
      /^This request could cost up to \$0\.05, more than is left of the key's monthly budget of \$0\.01 \(\$0\.00 spent\); the budget resets at /,
    );
  });
});
