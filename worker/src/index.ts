import { buildApp } from "./app";
import { type GenerationMessage, queue } from "./queue";
import { scheduled } from "./scheduled";

const app = buildApp();

// The Workers runtime reads the module's default export: requests go to the app, cron triggers
// to the maintenance jobs, queue messages to the asynchronous generations.
export default { fetch: app.fetch, scheduled, queue } satisfies ExportedHandler<Env, GenerationMessage>;
