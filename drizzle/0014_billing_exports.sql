CREATE TABLE "billing_exports" (
	"usage_event_id" uuid PRIMARY KEY NOT NULL,
	"outcome" text NOT NULL,
	"stripe_customer_id" text,
	"recorded_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "organizations" ADD COLUMN "stripe_customer_id" text;--> statement-breakpoint
ALTER TABLE "billing_exports" ADD CONSTRAINT "billing_exports_usage_event_id_usage_events_id_fk" FOREIGN KEY ("usage_event_id") REFERENCES "public"."usage_events"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "usage_events_billed_created_idx" ON "usage_events" USING btree ("created_at") WHERE "usage_events"."billable" and "usage_events"."cost_usd_micros" > 0;