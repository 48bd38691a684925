CREATE EXTENSION IF NOT EXISTS btree_gin;--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "images_project_search_text_trgm_idx" ON "images" USING gin ("project_id","search_text" gin_trgm_ops);--> statement-breakpoint
DROP INDEX IF EXISTS "images_search_text_trgm_idx";
