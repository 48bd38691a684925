-- Cached enhancements were shared by every project and cannot be attributed to one: drop them
-- (the cache refills itself) and key the cache per project from now on.
DELETE FROM "prompt_cache";--> statement-breakpoint
ALTER TABLE "prompt_cache" DROP CONSTRAINT "prompt_cache_pkey";--> statement-breakpoint
ALTER TABLE "prompt_cache" ADD COLUMN "project_id" uuid NOT NULL;--> statement-breakpoint
ALTER TABLE "prompt_cache" ADD CONSTRAINT "prompt_cache_project_id_projects_id_fk" FOREIGN KEY ("project_id") REFERENCES "public"."projects"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "prompt_cache" ADD CONSTRAINT "prompt_cache_project_hash_pk" PRIMARY KEY("project_id","hash");
