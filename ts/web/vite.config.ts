import { defineConfig } from "vitest/config";

// The app builds into the Go package that embeds it (server/web/dist, committed); the protocol
// package is used from its generated TypeScript source.
export default defineConfig({
  resolve: {
    alias: { "@pizzapi/protocol": new URL("../protocol/src/index.ts", import.meta.url).pathname },
  },
  esbuild: { jsx: "automatic", jsxImportSource: "preact" },
  build: {
    outDir: "../../server/web/dist",
    emptyOutDir: true,
    target: "es2022",
    modulePreload: { polyfill: false },
  },
  server: {
    proxy: {
      "/api": "http://127.0.0.1:3000",
      "/socket.io": { target: "http://127.0.0.1:3000", ws: true },
    },
  },
  test: {
    include: ["test/**/*.test.{ts,tsx}"],
  },
});
