import { serveImage, serveImageRef } from "../../delivery/serve";
import type { AppRouteHandler } from "../create-app";
import type { cdnImageRefRoute, cdnImageRoute, imageRefRoute, imageRoute } from "./images.routes";

export const getImage: AppRouteHandler<typeof imageRoute> = (c) => serveImage(c, c.req.valid("query"));

export const getCdnImage: AppRouteHandler<typeof cdnImageRoute> = (c) => serveImage(c, c.req.valid("query"));

export const getImageByRef: AppRouteHandler<typeof imageRefRoute> = (c) => serveImageRef(c);

export const getCdnImageByRef: AppRouteHandler<typeof cdnImageRefRoute> = (c) => serveImageRef(c);
