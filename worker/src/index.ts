import { buildApp } from "./app";

// The Workers runtime reads the module's default export as the fetch handler.
export default buildApp();
