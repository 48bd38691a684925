CREATE TABLE "flows" (
	"project_id" uuid NOT NULL,
	"id" uuid NOT NULL,
	"meta" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "flows_project_id_id_pk" PRIMARY KEY("project_id","id")
);
--> statement-breakpoint
CREATE TABLE "generation_references" (
	"generation_id" uuid NOT NULL,
	"position" smallint NOT NULL,
	"image_id" uuid NOT NULL,
	"spec" text NOT NULL,
	"alias" text,
	"resolved_via" text NOT NULL,
	CONSTRAINT "generation_references_generation_id_position_pk" PRIMARY KEY("generation_id","position"),
	CONSTRAINT "generation_references_position" CHECK ("generation_references"."position" between 1 and 3),
	CONSTRAINT "generation_references_resolved_via" CHECK ("generation_references"."resolved_via" in ('id', 'technical', 'flow', 'project', 'prompt', 'file'))
);
--> statement-breakpoint
CREATE TABLE "image_aliases" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"project_id" uuid NOT NULL,
	"flow_id" uuid,
	"alias" text NOT NULL,
	"image_id" uuid NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "image_aliases_format" CHECK ("image_aliases"."alias" ~ '^@[A-Za-z0-9_-]{1,49}$')
);
--> statement-breakpoint
ALTER TABLE "generations" ADD COLUMN "flow_id" uuid;--> statement-breakpoint
ALTER TABLE "generations" ADD COLUMN "meta" jsonb DEFAULT '{}'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "generations" ADD COLUMN "regeneration_count" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "generations" ADD COLUMN "updated_at" timestamp with time zone DEFAULT now() NOT NULL;--> statement-breakpoint
ALTER TABLE "generations" ADD COLUMN "deleted_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "images" ADD COLUMN "flow_id" uuid;--> statement-breakpoint
ALTER TABLE "images" ADD COLUMN "focal_x" double precision;--> statement-breakpoint
ALTER TABLE "images" ADD COLUMN "focal_y" double precision;--> statement-breakpoint
ALTER TABLE "images" ADD COLUMN "meta" jsonb DEFAULT '{}'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "images" ADD COLUMN "updated_at" timestamp with time zone DEFAULT now() NOT NULL;--> statement-breakpoint
ALTER TABLE "flows" ADD CONSTRAINT "flows_project_id_projects_id_fk" FOREIGN KEY ("project_id") REFERENCES "public"."projects"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "generation_references" ADD CONSTRAINT "generation_references_generation_id_generations_id_fk" FOREIGN KEY ("generation_id") REFERENCES "public"."generations"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "generation_references" ADD CONSTRAINT "generation_references_image_id_images_id_fk" FOREIGN KEY ("image_id") REFERENCES "public"."images"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "image_aliases" ADD CONSTRAINT "image_aliases_project_id_projects_id_fk" FOREIGN KEY ("project_id") REFERENCES "public"."projects"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "image_aliases" ADD CONSTRAINT "image_aliases_image_id_images_id_fk" FOREIGN KEY ("image_id") REFERENCES "public"."images"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "image_aliases" ADD CONSTRAINT "image_aliases_flow_fk" FOREIGN KEY ("project_id","flow_id") REFERENCES "public"."flows"("project_id","id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "generation_references_image_idx" ON "generation_references" USING btree ("image_id");--> statement-breakpoint
CREATE UNIQUE INDEX "image_aliases_project_uq" ON "image_aliases" USING btree ("project_id","alias") WHERE "image_aliases"."flow_id" is null;--> statement-breakpoint
CREATE UNIQUE INDEX "image_aliases_flow_uq" ON "image_aliases" USING btree ("project_id","flow_id","alias") WHERE "image_aliases"."flow_id" is not null;--> statement-breakpoint
CREATE UNIQUE INDEX "image_aliases_one_project_alias" ON "image_aliases" USING btree ("image_id") WHERE "image_aliases"."flow_id" is null;--> statement-breakpoint
CREATE INDEX "image_aliases_image_idx" ON "image_aliases" USING btree ("image_id");--> statement-breakpoint
CREATE INDEX "generations_project_flow_created_idx" ON "generations" USING btree ("project_id","flow_id","created_at") WHERE "generations"."flow_id" is not null;--> statement-breakpoint
CREATE INDEX "images_project_flow_created_idx" ON "images" USING btree ("project_id","flow_id","category","created_at" DESC NULLS FIRST,"id" DESC NULLS FIRST) WHERE "images"."deleted_at" is null and "images"."flow_id" is not null;--> statement-breakpoint
ALTER TABLE "generations" ADD CONSTRAINT "generations_meta_size" CHECK (octet_length("generations"."meta"::text) <= 8192);--> statement-breakpoint
ALTER TABLE "images" ADD CONSTRAINT "images_focal_point" CHECK (("images"."focal_x" is null) = ("images"."focal_y" is null) and ("images"."focal_x" is null or ("images"."focal_x" between 0 and 1 and "images"."focal_y" between 0 and 1)));--> statement-breakpoint
ALTER TABLE "images" ADD CONSTRAINT "images_meta_size" CHECK (octet_length("images"."meta"::text) <= 8192);