import path from "node:path";
import { describe, expect, it } from "vitest";
import { unstable_readConfig } from "wrangler";
import { dockerRecipeVars } from "../../dev/test/support/deploy-guide.ts";
import { loadConfig } from "../src/config";

const ROOT = path.resolve(import.meta.dirname, "../..");

// Docker cannot run here, but what the Worker makes of the recipe's settings can be checked:
// wrangler.toml's [vars] under the guide's .dev.vars, as `wrangler dev` combines them.
describe("the Docker recipe of the deploy guide", () => {
  it("gives the Worker a configuration it accepts, with the WebSocket proxy allowed", () => {
    const vars = unstable_readConfig({ config: path.join(ROOT, "wrangler.toml") }).vars as Record<string, string>;
    const config = loadConfig({ ...vars, ...dockerRecipeVars() } as unknown as Env);
    expect(config.environment).toBe("development");
  });
});
