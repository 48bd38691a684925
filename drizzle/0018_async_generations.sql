ALTER TYPE "public"."generation_status" ADD VALUE 'processing' BEFORE 'succeeded';--> statement-breakpoint
ALTER TABLE "generations" ADD COLUMN "queued_request" jsonb;--> statement-breakpoint
ALTER TABLE "generations" ADD COLUMN "budget_reservation_id" uuid;--> statement-breakpoint
ALTER TABLE "generations" ADD COLUMN "quota_window_start" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "generations" ADD COLUMN "refunded_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "generations" ADD COLUMN "cancel_requested_at" timestamp with time zone;