import type { OutputFormat } from "../../domain/catalog";
import type { RequestedFormat } from "./options";

/**
 * The output format: as asked, the source's when not asked, and for `auto` WebP when the client
 * accepts it (every current browser says so), else the source's own format, which it can read.
 * `auto` answers carry `Vary: Accept`.
 */
export function chooseFormat(requested: RequestedFormat | undefined, source: OutputFormat, accept: string | undefined) {
  if (requested === undefined) return source;
  if (requested !== "auto") return requested;
  if (acceptsWebp(accept ?? "")) return "webp";
  return source === "webp" ? "png" : source;
}

/** `image/webp` listed in Accept with a non-zero weight (`image/webp;q=0` refuses it). */
function acceptsWebp(accept: string): boolean {
  return accept.split(",").some((entry) => {
    const [type = "", ...params] = entry.split(";").map((part) => part.trim().toLowerCase());
    const weight = params.find((param) => param.startsWith("q="));
    return type === "image/webp" && (weight === undefined || Number(weight.slice(2)) > 0);
  });
}
