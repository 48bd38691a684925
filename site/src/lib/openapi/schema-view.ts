import { h, withInlineCode } from "../dom";
import { type OpenApiDocument, refName, resolve, type Schema } from "./types";

const MAX_DEPTH = 6;

/** "string (uuid)", "integer", "string | null", "array of Image". */
function typeLabel(schema: Schema): string {
  const name = refName(schema);
  if (name) return name;
  if (schema.type === "array" && schema.items) return `array of ${typeLabel(schema.items)}`;
  const types = Array.isArray(schema.type)
    ? schema.type.join(" | ")
    : (schema.type ?? (schema.anyOf || schema.oneOf ? "one of" : "object"));
  return schema.format ? `${types} (${schema.format})` : types;
}

/** Constraints worth a line: enum values, bounds, defaults, patterns. */
function constraints(schema: Schema): string[] {
  const notes: string[] = [];
  if (schema.enum) notes.push(`one of ${schema.enum.map((value) => JSON.stringify(value)).join(", ")}`);
  if (schema.minLength !== undefined || schema.maxLength !== undefined)
    notes.push(`length ${schema.minLength ?? 0}–${schema.maxLength ?? "∞"}`);
  if (schema.minimum !== undefined || schema.maximum !== undefined)
    notes.push(`from ${schema.minimum ?? "−∞"} to ${schema.maximum ?? "∞"}`);
  if (schema.default !== undefined) notes.push(`default ${JSON.stringify(schema.default)}`);
  if (schema.pattern) notes.push(`pattern ${schema.pattern}`);
  return notes;
}

/** Properties of an object schema, with allOf parts merged, as the reader thinks of them. */
function flatten(document: OpenApiDocument, schema: Schema): Schema {
  const resolved = resolve(document, schema);
  if (!resolved.allOf) return resolved;
  const merged: Schema = { type: "object", properties: {}, required: [] };
  for (const part of resolved.allOf.map((item) => flatten(document, item))) {
    Object.assign(merged.properties!, part.properties);
    merged.required!.push(...(part.required ?? []));
    merged.description ??= part.description;
  }
  return merged;
}

/** A schema as a nested list: each property with its type, whether required, constraints and description. */
export function schemaView(document: OpenApiDocument, schema: Schema, depth = 0): HTMLElement {
  const flat = flatten(document, schema);
  const list = h("ul", { class: "schema" });
  if (depth > MAX_DEPTH) return list;
  const variants = flat.anyOf ?? flat.oneOf;
  if (variants) {
    variants.forEach((variant, index) => {
      list.append(
        h(
          "li",
          {},
          h("span", { class: "type" }, `variant ${index + 1}: ${typeLabel(variant)}`),
          schemaView(document, variant, depth + 1),
        ),
      );
    });
    return list;
  }
  const items = flat.type === "array" && flat.items ? flatten(document, flat.items) : undefined;
  const target = items ?? flat;
  for (const [name, property] of Object.entries(target.properties ?? {})) {
    const resolved = flatten(document, property);
    const notes = constraints(resolved);
    const item = h(
      "li",
      {},
      h("code", {}, name),
      " ",
      h("span", { class: "type" }, typeLabel(property)),
      target.required?.includes(name) ? h("span", { class: "required" }, " required") : null,
      resolved.description ? withInlineCode(` — ${resolved.description}`) : null,
      notes.length ? h("div", { class: "muted small-text" }, notes.join("; ")) : null,
    );
    const nested =
      resolved.properties ||
      resolved.allOf ||
      resolved.anyOf ||
      (resolved.type === "array" && resolved.items && flatten(document, resolved.items).properties);
    if (nested) item.append(schemaView(document, property, depth + 1));
    list.append(item);
  }
  if (!target.properties && !variants)
    list.append(h("li", { class: "type" }, [typeLabel(flat), ...constraints(flat)].join("; ")));
  return list;
}

/** A sample value for a schema (its example, default or first enum value), used to prefill "try it". */
export function sampleValue(document: OpenApiDocument, schema: Schema, depth = 0): unknown {
  const flat = flatten(document, schema);
  if (flat.example !== undefined) return flat.example;
  if (flat.default !== undefined) return flat.default;
  if (flat.enum) return flat.enum[0];
  if (depth > MAX_DEPTH) return null;
  const type = Array.isArray(flat.type) ? flat.type.find((item) => item !== "null") : flat.type;
  if (flat.properties) {
    const sample: Record<string, unknown> = {};
    for (const [name, property] of Object.entries(flat.properties)) {
      if (flat.required?.includes(name)) sample[name] = sampleValue(document, property, depth + 1);
    }
    return sample;
  }
  if (type === "array") return flat.items ? [sampleValue(document, flat.items, depth + 1)] : [];
  if (type === "integer" || type === "number") return flat.minimum ?? 1;
  if (type === "boolean") return true;
  if (type === "string") return "";
  return null;
}
