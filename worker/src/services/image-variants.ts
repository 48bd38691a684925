import { eq, inArray, type SQL, sql } from "drizzle-orm";
import type { Database } from "../db/client";
import { images, imageVariants } from "../db/schema";

/**
 * Records a variant of an image; true when it may be produced. A `counted` variant (arbitrary
 * work) is refused when the image already has `max` counted ones, unless it is one of them; an
 * uncounted one (a preset) is always recorded, so deletion can still purge it. One statement;
 * concurrent first requests for different new variants can overshoot the bound by their number.
 */
export async function admitVariant(
  db: Database,
  imageId: string,
  variantKey: string,
  max: number,
  counted: boolean,
): Promise<boolean> {
  const result = await db.execute<{ admitted: boolean }>(sql`
    with known as (
      select count(*) filter (where ${imageVariants.counted})::int as variants,
             coalesce(bool_or(${imageVariants.variantKey} = ${variantKey}), false) as present
      from ${imageVariants} where ${imageVariants.imageId} = ${imageId}
    ), inserted as (
      insert into ${imageVariants} (image_id, variant_key, counted)
      select ${imageId}, ${variantKey}, ${counted} from known where not present and (not ${counted} or variants < ${max})
      on conflict do nothing
      returning 1
    )
    select present or exists (select 1 from inserted) as admitted from known`);
  return result.rows[0]?.admitted === true;
}

/** Every variant of the given images, as `{ storageKey, variantKey }`, to purge from the edge cache. */
export async function variantsOf(db: Database, where: { imageId: string } | { imageIds: string[] } | { projectId: string }) {
  let condition: SQL;
  if ("imageId" in where) condition = eq(images.id, where.imageId);
  else if ("imageIds" in where) condition = inArray(images.id, where.imageIds);
  else condition = eq(images.projectId, where.projectId);
  return db
    .select({ storageKey: images.storageKey, variantKey: imageVariants.variantKey })
    .from(imageVariants)
    .innerJoin(images, eq(images.id, imageVariants.imageId))
    .where(condition);
}
