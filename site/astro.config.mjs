import { defineConfig } from "astro/config";

// Static output served by the Worker through [assets]; in `astro dev` the API is proxied.
export default defineConfig({
  output: "static",
  outDir: "./dist",
  vite: {
    server: {
      proxy: {
        "/api": `http://127.0.0.1:${process.env.BANATIE_PORT ?? 8787}`,
        "/health": `http://127.0.0.1:${process.env.BANATIE_PORT ?? 8787}`,
      },
    },
  },
});
