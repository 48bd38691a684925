import { eq } from "drizzle-orm";
import type { Database } from "../db/client";
import { organizations } from "../db/schema";

/**
 * Sets (or, with null, clears) the Stripe customer an organization's billable usage is sent for.
 * Returns the organization, or null when none has this id.
 */
export async function setStripeCustomer(db: Database, organizationId: string, stripeCustomerId: string | null) {
  const [row] = await db
    .update(organizations)
    .set({ stripeCustomerId })
    .where(eq(organizations.id, organizationId))
    .returning({ id: organizations.id, slug: organizations.slug, stripeCustomerId: organizations.stripeCustomerId });
  return row ?? null;
}
