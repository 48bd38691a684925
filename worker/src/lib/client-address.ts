const MAX_USER_AGENT_LENGTH = 512;

/** Who made a request, as the audit trail and the per-client limits see it. */
export interface ClientInfo {
  ip: string | null;
  userAgent: string | null;
}

/** Reads the client of a request. Typed by what it reads, so lib/ stays below the request context. */
export function clientInfo(c: { req: { header(name: string): string | undefined } }): ClientInfo {
  return {
    // Set by Cloudflare's edge (and by wrangler dev); not spoofable by the client there.
    ip: c.req.header("CF-Connecting-IP") ?? null,
    userAgent: c.req.header("User-Agent")?.slice(0, MAX_USER_AGENT_LENGTH) ?? null,
  };
}

/**
 * The part of a client's address that one client controls, for per-client limits: an IPv4
 * address, or the /64 network of an IPv6 address. One subscriber is given at least a /64, so a
 * limit per IPv6 address would be a rotation away from useless. Anything unreadable is kept as
 * it is (it then counts as one client of its own).
 */
export function clientAddressBlock(ip: string): string {
  if (!ip.includes(":")) return ip;
  const mapped = ip.match(/^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i);
  if (mapped?.[1]) return mapped[1];
  const halves = ip.split("::");
  if (halves.length > 2) return ip;
  const [head = "", tail] = halves;
  const headGroups = head ? head.split(":") : [];
  const tailGroups = tail ? tail.split(":") : [];
  const zeros = tail === undefined ? 0 : 8 - headGroups.length - tailGroups.length;
  const groups = [...headGroups, ...Array<string>(Math.max(0, zeros)).fill("0"), ...tailGroups];
  if (groups.length !== 8 || !groups.every((group) => /^[0-9a-f]{1,4}$/i.test(group))) return ip;
  return `${groups
    .slice(0, 4)
    .map((group) => Number.parseInt(group, 16).toString(16))
    .join(":")}::/64`;
}
