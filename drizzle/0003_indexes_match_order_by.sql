DROP INDEX "audit_events_created_idx";--> statement-breakpoint
DROP INDEX "audit_events_actor_created_idx";--> statement-breakpoint
DROP INDEX "audit_events_project_created_idx";--> statement-breakpoint
DROP INDEX "audit_events_target_created_idx";--> statement-breakpoint
DROP INDEX "generations_api_key_created_idx";--> statement-breakpoint
DROP INDEX "generations_project_created_idx";--> statement-breakpoint
DROP INDEX "images_project_category_created_idx";--> statement-breakpoint
CREATE INDEX "audit_events_created_idx" ON "audit_events" USING btree ("created_at" DESC NULLS FIRST,"id" DESC NULLS FIRST);--> statement-breakpoint
CREATE INDEX "audit_events_actor_created_idx" ON "audit_events" USING btree ("actor_key_id","created_at" DESC NULLS FIRST);--> statement-breakpoint
CREATE INDEX "audit_events_project_created_idx" ON "audit_events" USING btree ("project_id","created_at" DESC NULLS FIRST);--> statement-breakpoint
CREATE INDEX "audit_events_target_created_idx" ON "audit_events" USING btree ("target_id","created_at" DESC NULLS FIRST);--> statement-breakpoint
CREATE INDEX "generations_api_key_created_idx" ON "generations" USING btree ("api_key_id","created_at" DESC NULLS FIRST);--> statement-breakpoint
CREATE INDEX "generations_project_created_idx" ON "generations" USING btree ("project_id","created_at" DESC NULLS FIRST);--> statement-breakpoint
CREATE INDEX "images_project_category_created_idx" ON "images" USING btree ("project_id","category","created_at" DESC NULLS FIRST,"id" DESC NULLS FIRST) WHERE "images"."deleted_at" is null;