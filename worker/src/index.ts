import { buildApp } from "./app";
import { scheduled } from "./scheduled";

const app = buildApp();

// The Workers runtime reads the module's default export: requests go to the app, cron triggers
// to the maintenance jobs.
export default { fetch: app.fetch, scheduled } satisfies ExportedHandler<Env>;
