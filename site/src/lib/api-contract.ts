/**
 * The API's request and response shapes, from the generated api-types.ts (the OpenAPI document).
 * Types only, with no browser code, so the Worker's tests use them too.
 */
import type { components, operations } from "./api-types";

/** A schema of the OpenAPI document by name, e.g. `Schema<"Image">`. */
export type Schema<Name extends keyof components["schemas"]> = components["schemas"][Name];

/** The JSON body an operation answers with a status, as the OpenAPI document declares it, e.g. `ApiBody<"getInfo", 200>`. */
export type ApiBody<
  Operation extends keyof operations,
  Status extends keyof operations[Operation]["responses"],
> = operations[Operation]["responses"][Status] extends { content: { "application/json": infer Body } } ? Body : never;
