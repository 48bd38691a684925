import { defineConfig } from "drizzle-kit";

// Only `drizzle-kit generate` uses this; migrations are applied by `npm run db:migrate`.
export default defineConfig({
  dialect: "postgresql",
  schema: "./worker/src/db/schema/index.ts",
  out: "./drizzle",
  casing: "snake_case",
  strict: true,
});
