CREATE TABLE "usage_daily" (
	"day" date NOT NULL,
	"organization_id" uuid NOT NULL,
	"project_id" uuid NOT NULL,
	"api_key_id" uuid NOT NULL,
	"provider" text NOT NULL,
	"model" text NOT NULL,
	"billable" boolean NOT NULL,
	"requests" integer NOT NULL,
	"images" integer NOT NULL,
	"input_tokens" bigint NOT NULL,
	"output_tokens" bigint NOT NULL,
	"cost_usd_micros" bigint NOT NULL,
	CONSTRAINT "usage_daily_day_organization_id_project_id_api_key_id_provider_model_billable_pk" PRIMARY KEY("day","organization_id","project_id","api_key_id","provider","model","billable")
);
--> statement-breakpoint
-- The events recorded before the rollup existed, summed once; later events sum as they are written.
INSERT INTO "usage_daily" ("day", "organization_id", "project_id", "api_key_id", "provider", "model", "billable",
	"requests", "images", "input_tokens", "output_tokens", "cost_usd_micros")
SELECT ("created_at" AT TIME ZONE 'UTC')::date, "organization_id", "project_id", "api_key_id", "provider", "model", "billable",
	count(*), count(*) FILTER (WHERE "kind" = 'generation'),
	sum("input_text_tokens" + "input_image_tokens"), sum("output_text_tokens" + "output_image_tokens"),
	coalesce(sum("cost_usd_micros"), 0)
FROM "usage_events"
GROUP BY 1, 2, 3, 4, 5, 6, 7;
