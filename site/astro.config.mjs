import { defineConfig } from "astro/config";

// Static output served by the Worker through [assets]; in `astro dev` the API is proxied.
export default defineConfig({
  output: "static",
  outDir: "./dist",
  // demo/tti.html rather than demo/tti/index.html: the Worker's assets then serve /demo/tti
  // as linked, without a redirect to /demo/tti/. Stylesheets and scripts are always files,
  // never inlined into a page: the site's Content-Security-Policy (public/_headers) allows
  // neither inline scripts nor inline styles.
  build: { format: "file", inlineStylesheets: "never" },
  // Compressing drops the space where a line of text breaks next to an element ("in<code>...").
  compressHTML: false,
  // Highlighted code blocks carry inline style attributes, which the same policy refuses.
  markdown: { syntaxHighlight: false },
  vite: {
    build: { assetsInlineLimit: 0 },
    server: {
      proxy: {
        "/api": `http://127.0.0.1:${process.env.BANATIE_PORT ?? 8787}`,
        "/health": `http://127.0.0.1:${process.env.BANATIE_PORT ?? 8787}`,
      },
    },
  },
});
