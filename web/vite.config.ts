import { resolve } from "node:path";
import vue from "@vitejs/plugin-vue";
import { defineConfig } from "vitest/config";

// Two pages: the dashboard (index.html, every client-side route) and the API reference
// (docs/index.html, served at /docs), so Swagger UI's weight never touches the dashboard's first load.
export default defineConfig({
  plugins: [vue()],
  build: {
    target: "es2022",
    sourcemap: false,
    chunkSizeWarningLimit: 2000, // Swagger UI, on /docs only
    manifest: true, // scripts/bundle-size.mjs walks it to weigh each page's JavaScript
    rollupOptions: {
      input: {
        app: resolve(import.meta.dirname, "index.html"),
        docs: resolve(import.meta.dirname, "docs/index.html"),
      },
    },
  },
  test: {
    environment: "happy-dom",
    include: ["tests/**/*.test.ts"],
  },
});
