-- A generation and its image were linked twice (generations.image_id and images.generation_id).
-- The image keeps the link: it is set in the same statement, and uploads simply have none.
ALTER TABLE "generations" DROP CONSTRAINT "generations_image_id_images_id_fk";
--> statement-breakpoint
ALTER TABLE "generations" DROP COLUMN "image_id";