/**
 * Whether a presented secret equals the expected one, in time that depends on neither: both
 * are hashed to equal-length digests, which `timingSafeEqual` then compares.
 */
export async function secretsEqual(presented: string, expected: string): Promise<boolean> {
  const digest = (value: string) => crypto.subtle.digest("SHA-256", new TextEncoder().encode(value));
  const [a, b] = await Promise.all([digest(presented), digest(expected)]);
  return crypto.subtle.timingSafeEqual(a, b);
}
