CREATE TABLE "budget_periods" (
	"scope_kind" text NOT NULL,
	"scope_id" uuid NOT NULL,
	"period_start" timestamp with time zone NOT NULL,
	"spent_usd_micros" bigint DEFAULT 0 NOT NULL,
	"reserved_usd_micros" bigint DEFAULT 0 NOT NULL,
	"threshold_reached_at" timestamp with time zone,
	CONSTRAINT "budget_periods_scope_kind_scope_id_period_start_pk" PRIMARY KEY("scope_kind","scope_id","period_start"),
	CONSTRAINT "budget_periods_scope_kind" CHECK ("budget_periods"."scope_kind" in ('key', 'project')),
	CONSTRAINT "budget_periods_amounts_not_negative" CHECK ("budget_periods"."spent_usd_micros" >= 0 and "budget_periods"."reserved_usd_micros" >= 0)
);
--> statement-breakpoint
ALTER TABLE "api_keys" ADD COLUMN "monthly_budget_usd_micros" bigint;--> statement-breakpoint
ALTER TABLE "projects" ADD COLUMN "monthly_budget_usd_micros" bigint;--> statement-breakpoint
ALTER TABLE "api_keys" ADD CONSTRAINT "api_keys_monthly_budget_positive" CHECK ("api_keys"."monthly_budget_usd_micros" > 0);--> statement-breakpoint
ALTER TABLE "projects" ADD CONSTRAINT "projects_monthly_budget_positive" CHECK ("projects"."monthly_budget_usd_micros" > 0);