import { clientInfo } from "../../lib/client-address";
import { pagination } from "../../lib/openapi";
import { authorize } from "../../middleware/access";
import { createApiKey, listApiKeys, revokeApiKey, setKeyBudget } from "../../services/keys";
import type { AppRouteHandler } from "../create-app";
import { serializeKey } from "../shared/key-schemas";
import type { createKeyRoute, listKeysRoute, revokeKeyRoute, updateKeyRoute } from "./admin-keys.routes";

export const createKey: AppRouteHandler<typeof createKeyRoute> = async (c) => {
  const caller = await authorize(c);
  const key = await createApiKey(c.var.services.sessionDb, c.req.valid("json"), caller.keyId, clientInfo(c));
  c.header("Cache-Control", "no-store");
  return c.json({ success: true as const, data: serializeKey(key) }, 201);
};

export const listKeys: AppRouteHandler<typeof listKeysRoute> = async (c) => {
  await authorize(c);
  const query = c.req.valid("query");
  const { keys, nextCursor } = await listApiKeys(c.var.services.db, query);
  return c.json(
    {
      success: true as const,
      data: keys.map(serializeKey),
      pagination: pagination(query.limit, nextCursor),
    },
    200,
  );
};

export const revokeKey: AppRouteHandler<typeof revokeKeyRoute> = async (c) => {
  const caller = await authorize(c);
  const { id } = c.req.valid("param");
  // The body is optional; without a JSON body there is simply no reason.
  const reason = c.req.header("content-type")?.includes("json") ? (c.req.valid("json")?.reason ?? null) : null;
  const key = await revokeApiKey(c.var.services.sessionDb, id, reason, caller.keyId, clientInfo(c));
  return c.json({ success: true as const, data: serializeKey(key) }, 200);
};

export const updateKey: AppRouteHandler<typeof updateKeyRoute> = async (c) => {
  const caller = await authorize(c);
  const { id } = c.req.valid("param");
  const { monthlyBudgetUsd } = c.req.valid("json");
  const key = await setKeyBudget(c.var.services.db, id, monthlyBudgetUsd, caller.keyId, clientInfo(c));
  return c.json({ success: true as const, data: serializeKey(key) }, 200);
};
