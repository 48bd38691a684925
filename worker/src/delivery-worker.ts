import { buildDeliveryApp } from "./delivery-app";

// The image delivery Worker's fetch handler; see delivery-app.ts and wrangler.delivery.toml.
export default buildDeliveryApp();
