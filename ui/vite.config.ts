import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

/**
 * The web view (`/ui`): built once by `npm run ui:build` into dist/ui, which the server serves
 * (src/server/ui.ts). Everything is bundled: no CDN, no web fonts, nothing fetched at run time but the
 * GraphQL endpoint of the server that served the page.
 *
 * `npx vite --config ui/vite.config.ts` serves it with hot reload against a server on :4000.
 */
export default defineConfig({
  root: fileURLToPath(new URL(".", import.meta.url)),
  base: "/ui/",
  publicDir: false,
  // Vite 8 transforms TSX with Oxc; React 19's automatic runtime (no React import per file).
  oxc: { jsx: { runtime: "automatic" } },
  build: {
    outDir: fileURLToPath(new URL("../dist/ui", import.meta.url)),
    emptyOutDir: true,
    target: "es2022",
    // Hashed file names under assets/ are served as immutable; index.html is revalidated.
    assetsDir: "assets",
    reportCompressedSize: false,
  },
  server: {
    proxy: { "/graphql": { target: "http://127.0.0.1:4000", ws: true } },
  },
});
