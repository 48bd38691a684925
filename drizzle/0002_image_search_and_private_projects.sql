CREATE EXTENSION IF NOT EXISTS pg_trgm;--> statement-breakpoint
ALTER TABLE "images" ADD COLUMN "aspect_ratio" text;--> statement-breakpoint
ALTER TABLE "images" ADD COLUMN "search_text" text DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE "projects" ADD COLUMN "private" boolean DEFAULT false NOT NULL;--> statement-breakpoint
CREATE INDEX "images_search_text_trgm_idx" ON "images" USING gin ("search_text" gin_trgm_ops);