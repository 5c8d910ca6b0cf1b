import { defineConfig } from 'vite';
import { resolve } from 'node:path';

// The snippet's script: one self-contained file at a stable URL (/widget.js), no hash, no
// chunks, no Svelte — it only draws the launcher and the iframe.
export default defineConfig({
  build: {
    outDir: 'dist',
    emptyOutDir: false,
    target: 'es2018',
    lib: {
      entry: resolve(import.meta.dirname, 'src/loader/loader.ts'),
      formats: ['iife'],
      name: 'frontdeskLoader',
      fileName: () => 'widget.js',
    },
  },
});
