// Builds the chat page into dist/: index.html plus content-hashed files under assets/, which
// nginx serves as static files (nginx/chatd.conf). Nothing is inlined into index.html and nothing
// is loaded from elsewhere at run time, so the page works under a strict Content-Security-Policy
// (script-src 'self', style-src 'self', connect-src 'self').
import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

export default defineConfig({
  plugins: [react()],
  build: {
    outDir: "dist",
    emptyOutDir: true,
    // Never turn a small asset into a data: URL inside the CSS or JS.
    assetsInlineLimit: 0,
    // Every supported browser has <link rel=modulepreload>; the polyfill is not needed.
    modulePreload: { polyfill: false },
    target: "es2022",
    sourcemap: false,
  },
  // `npm run dev` serves the page on :5173 and passes the API to a chatd behind nginx.
  server: {
    proxy: {
      "/api/": { target: "http://127.0.0.1:8080", changeOrigin: false },
    },
  },
});
