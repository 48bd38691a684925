CREATE TABLE "image_variants" (
	"image_id" uuid NOT NULL,
	"variant_key" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "image_variants_image_id_variant_key_pk" PRIMARY KEY("image_id","variant_key")
);
--> statement-breakpoint
ALTER TABLE "projects" ADD COLUMN "image_settings" jsonb DEFAULT '{"presets":{},"watermark":null,"watermarkByDefault":false}'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "image_variants" ADD CONSTRAINT "image_variants_image_id_images_id_fk" FOREIGN KEY ("image_id") REFERENCES "public"."images"("id") ON DELETE cascade ON UPDATE no action;