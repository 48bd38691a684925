import type { RequestIdVariables } from "hono/request-id";
import type { Config } from "../config";
import type { Database } from "../db/client";
import type { ObjectStore } from "../storage";

/** Clients built per request by the services middleware; handlers reach them as `c.var.services`. */
export interface Services {
  db: Database;
  store: ObjectStore;
}

export interface HonoEnv {
  Bindings: Env;
  Variables: RequestIdVariables & {
    config: Config;
    services: Services;
  };
}
