import { serveImage } from "../../delivery/serve";
import type { AppRouteHandler } from "../create-app";
import type { cdnImageRoute, imageRoute } from "./images.routes";

export const getImage: AppRouteHandler<typeof imageRoute> = (c) => serveImage(c, c.req.valid("query"));

export const getCdnImage: AppRouteHandler<typeof cdnImageRoute> = (c) => serveImage(c, c.req.valid("query"));
