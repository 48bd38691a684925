import { buildApp } from "./app";
import { queue } from "./queue";
import { scheduled } from "./scheduled";

const app = buildApp();

// The Workers runtime reads the module's default export: requests go to the app, cron triggers
// to the maintenance jobs, queue batches to their consumers (asynchronous generations, webhook
// deliveries).
export default { fetch: app.fetch, scheduled, queue } satisfies ExportedHandler<Env>;
