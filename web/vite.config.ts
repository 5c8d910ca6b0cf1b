import { defineConfig } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { resolve } from 'node:path';

// Three builds write into dist/ (see package.json "build"):
//   this one      — the agent console (index.html) and the demo page (demo.html);
//   vite.widget   — the visitor widget (widget.html), alone so it carries only its own code;
//   vite.loader   — /widget.js, one small unhashed file for the snippet.
export const shared = {
  plugins: [svelte()],
  base: '/',
  build: {
    outDir: 'dist',
    target: 'es2020',
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
  },
};

const output = {
  entryFileNames: 'assets/[name]-[hash].js',
  chunkFileNames: 'assets/[name]-[hash].js',
  assetFileNames: 'assets/[name]-[hash][extname]',
};

export default defineConfig({
  ...shared,
  build: {
    ...shared.build,
    emptyOutDir: true,
    rollupOptions: {
      input: { console: resolve(import.meta.dirname, 'index.html'), demo: resolve(import.meta.dirname, 'demo.html') },
      output,
    },
  },
  server: {
    proxy: {
      '/api': 'http://127.0.0.1:8080',
      '/ws': { target: 'ws://127.0.0.1:8080', ws: true },
      '/files': 'http://127.0.0.1:8080',
      '/widget.js': 'http://127.0.0.1:8080',
    },
  },
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
  },
});

export { output };
