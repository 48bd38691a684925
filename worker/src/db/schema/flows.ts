import { jsonb, pgTable, primaryKey, timestamp, uuid } from "drizzle-orm/pg-core";
import { createdAt } from "./columns";
import { projects } from "./projects";

/**
 * A flow: a chain of generations and uploads a client continues by passing its id. Flows are
 * lazy: a flow's id is handed out with its first generation and its row is only written when the
 * id is used again or given a flow alias, so images and generations carry `flow_id` without a
 * foreign key. Keyed by project first, so a flow id can never reach another tenant's flow.
 */
export const flows = pgTable(
  "flows",
  {
    projectId: uuid()
      .notNull()
      .references(() => projects.id, { onDelete: "restrict" }),
    id: uuid().notNull(),
    meta: jsonb().$type<Record<string, unknown>>().notNull().default({}),
    createdAt: createdAt(),
    /** Touched on every use of the flow, so lists can show the flows in use first. */
    updatedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [primaryKey({ columns: [table.projectId, table.id] })],
);

export type Flow = typeof flows.$inferSelect;
