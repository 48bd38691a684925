CREATE TABLE "budget_reservations" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"key_id" uuid NOT NULL,
	"project_id" uuid NOT NULL,
	"period_start" timestamp with time zone NOT NULL,
	"scopes" text[] NOT NULL,
	"usd_micros" bigint NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "budget_reservations_amount_not_negative" CHECK ("budget_reservations"."usd_micros" >= 0)
);
--> statement-breakpoint
CREATE INDEX "budget_reservations_created_at_idx" ON "budget_reservations" USING btree ("created_at");