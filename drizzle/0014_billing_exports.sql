CREATE TABLE "billing_exports" (
	"usage_event_id" uuid PRIMARY KEY NOT NULL,
	"outcome" text DEFAULT 'pending' NOT NULL,
	"queued_at" timestamp with time zone DEFAULT now() NOT NULL,
	"stripe_customer_id" text,
	"settled_at" timestamp with time zone,
	CONSTRAINT "billing_exports_outcome" CHECK ("billing_exports"."outcome" in ('pending', 'sent', 'already-sent', 'too-old'))
);
--> statement-breakpoint
ALTER TABLE "organizations" ADD COLUMN "stripe_customer_id" text;--> statement-breakpoint
ALTER TABLE "billing_exports" ADD CONSTRAINT "billing_exports_usage_event_id_usage_events_id_fk" FOREIGN KEY ("usage_event_id") REFERENCES "public"."usage_events"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "billing_exports_pending_idx" ON "billing_exports" USING btree ("queued_at") WHERE "billing_exports"."outcome" = 'pending';