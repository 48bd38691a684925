/**
 * Which webhook URLs Banatie will send to (SSRF): checked when the settings are saved and again
 * before every attempt, since the rules may tighten between the two.
 *
 * Names are checked lexically: a public name that resolves to a private address is Cloudflare's
 * concern, as a Worker's fetch never reaches private networks in production. IP literals are
 * checked after the URL parser has normalized them, so `2130706433`, `0x7f.1` and `[::ffff:7f00:1]`
 * are all 127.0.0.1 by the time they are looked at.
 */

import { AppError } from "../../lib/errors";

/** Ports an https receiver may listen on: the standard one, and the common alternative. */
export const WEBHOOK_PORTS = ["", "443", "8443"] as const;

/** Environments that never run deployed, where local receivers (`http://127.0.0.1:<port>`) are allowed. */
const LOCAL_ENVIRONMENTS = new Set(["development", "test"]);

/** Names that only ever mean this machine or a private network. */
const PRIVATE_NAME = /(^|\.)(localhost|local|internal|localdomain|home\.arpa|intranet|lan)$/;

/** IPv4 ranges that are not public unicast (RFC 6890 and friends), as [first octets, prefix length]. */
const PRIVATE_V4: [number[], number][] = [
  [[0], 8], // this network, unspecified
  [[10], 8],
  [[100, 64], 10], // carrier-grade NAT
  [[127], 8],
  [[169, 254], 16], // link-local, cloud metadata
  [[172, 16], 12],
  [[192, 0, 0], 24],
  [[192, 0, 2], 24],
  [[192, 168], 16],
  [[198, 18], 15], // benchmarking
  [[198, 51, 100], 24],
  [[203, 0, 113], 24],
  [[224], 4], // multicast
  [[240], 4], // reserved, broadcast
];

export type UrlVerdict = { ok: true; url: URL } | { ok: false; reason: string };

/**
 * Whether a webhook may be sent to `raw` in `environment`: https only, no credentials, a public
 * host on an allowed port. In development and test, `http://127.0.0.1:<port>` and
 * `http://localhost:<port>` are allowed too, so local tools and the tests' receiver work.
 */
export function checkWebhookUrl(raw: string, environment: string): UrlVerdict {
  if (!URL.canParse(raw)) return refuse("is not a valid URL");
  const url = new URL(raw);
  if (url.username || url.password) return refuse("must not contain a user name or password");
  const host = url.hostname.replace(/\.$/, "").toLowerCase();
  if (LOCAL_ENVIRONMENTS.has(environment) && isLocalReceiver(url, host)) return { ok: true, url };
  if (url.protocol !== "https:") return refuse("must be an https URL");
  if (!(WEBHOOK_PORTS as readonly string[]).includes(url.port)) return refuse("must use port 443 or 8443");
  const hostProblem = privateHost(host);
  return hostProblem ? refuse(hostProblem) : { ok: true, url };
}

/**
 * The URL, or a 400 VALIDATION_ERROR naming `field`: for the settings' `url`, and for a webhook
 * URL a request names for itself.
 */
export function requireWebhookUrl(raw: string, environment: string, field = "url"): URL {
  const verdict = checkWebhookUrl(raw, environment);
  if (!verdict.ok)
    throw new AppError("VALIDATION_ERROR", `${field}: ${verdict.reason}`, { errors: [{ field, message: verdict.reason }] });
  return verdict.url;
}

function refuse(reason: string): UrlVerdict {
  return { ok: false, reason };
}

function isLocalReceiver(url: URL, host: string): boolean {
  return (url.protocol === "http:" || url.protocol === "https:") && (host === "127.0.0.1" || host === "localhost");
}

/** Why a host is not a public one, or undefined when it is. */
function privateHost(host: string): string | undefined {
  if (host.startsWith("["))
    return privateV6(parseV6(host.slice(1, -1))) ? "must not be a private or loopback address" : undefined;
  const v4 = parseV4(host);
  if (v4) return privateV4(v4) ? "must not be a private or loopback address" : undefined;
  if (!host.includes(".")) return "must be a public host name with a domain";
  if (PRIVATE_NAME.test(host)) return "must not name a local or internal host";
  return undefined;
}

/** Dotted decimal only: the URL parser has already rewritten every other IPv4 form into it. */
function parseV4(host: string): number[] | undefined {
  const parts = host.split(".");
  if (parts.length !== 4 || !parts.every((part) => /^\d{1,3}$/.test(part))) return undefined;
  const octets = parts.map(Number);
  return octets.every((octet) => octet <= 255) ? octets : undefined;
}

function privateV4(octets: number[]): boolean {
  const address = octets.reduce((sum, octet) => sum * 256 + octet, 0);
  return PRIVATE_V4.some(([prefix, length]) => {
    const base = [0, 1, 2, 3].reduce((sum, i) => sum * 256 + (prefix[i] ?? 0), 0);
    const size = 2 ** (32 - length);
    return address >= base && address < base + size;
  });
}

/** Eight 16-bit groups of a normalized IPv6 literal (the URL parser writes mapped IPv4 in hex). */
function parseV6(literal: string): number[] {
  const [head = "", tail] = literal.split("::");
  const groups = (text: string) => (text ? text.split(":").map((group) => Number.parseInt(group, 16)) : []);
  const left = groups(head);
  const right = tail === undefined ? [] : groups(tail);
  return [...left, ...new Array(8 - left.length - right.length).fill(0), ...right];
}

/**
 * Only global unicast (2000::/3) is public, less documentation (2001:db8::/32) and the prefixes
 * that tunnel to an IPv4 address (Teredo 2001::/32, 6to4 2002::/16); everything else (loopback,
 * unspecified, IPv4-mapped and -compatible, NAT64, link-local, unique-local, multicast) is refused.
 */
function privateV6(groups: number[]): boolean {
  const [first = 0, second = 0] = groups;
  if ((first & 0xe000) !== 0x2000) return true;
  if (first === 0x2001 && (second === 0x0db8 || second === 0)) return true;
  return first === 0x2002;
}
