import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { unstable_readConfig } from "wrangler";
import { loadConfig } from "../src/config";

const ROOT = path.resolve(import.meta.dirname, "../..");

/** The `.dev.vars` the deploy guide tells Docker users to write, as `KEY=value` pairs. */
function dockerRecipeVars(): Record<string, string> {
  const guide = readFileSync(path.join(ROOT, "site/src/pages/docs/deploy.md"), "utf8");
  const block = guide.match(/cat > \.dev\.vars <<'VARS'\n([\s\S]*?)\nVARS/)?.[1];
  if (!block) throw new Error("deploy.md has no `cat > .dev.vars <<'VARS'` recipe");
  return Object.fromEntries(block.split("\n").map((line) => line.split(/=(.*)/s).slice(0, 2) as [string, string]));
}

// Docker cannot run here, but what the Worker makes of the recipe's settings can be checked:
// wrangler.toml's [vars] under the guide's .dev.vars, as `wrangler dev` combines them.
describe("the Docker recipe of the deploy guide", () => {
  it("gives the Worker a configuration it accepts, with the WebSocket proxy allowed", () => {
    const vars = unstable_readConfig({ config: path.join(ROOT, "wrangler.toml") }).vars as Record<string, string>;
    const config = loadConfig({ ...vars, ...dockerRecipeVars() } as unknown as Env);
    expect(config.environment).toBe("development");
  });
});
