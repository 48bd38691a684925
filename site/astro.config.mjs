import { defineConfig } from "astro/config";

// Static output served by the Worker through [assets]; in `astro dev` the API is proxied.
export default defineConfig({
  output: "static",
  outDir: "./dist",
  // demo/tti.html rather than demo/tti/index.html: the Worker's assets then serve /demo/tti
  // as linked, without a redirect to /demo/tti/.
  build: { format: "file" },
  vite: {
    server: {
      proxy: {
        "/api": `http://127.0.0.1:${process.env.BANATIE_PORT ?? 8787}`,
        "/health": `http://127.0.0.1:${process.env.BANATIE_PORT ?? 8787}`,
      },
    },
  },
});
