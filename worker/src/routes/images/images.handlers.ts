import { serveImage } from "../../delivery/serve";
import type { AppRouteHandler } from "../create-app";
import type { imageRoute } from "./images.routes";

export const getImage: AppRouteHandler<typeof imageRoute> = (c) => serveImage(c, c.req.valid("query"));
