import { defineConfig } from 'vite';
import { resolve } from 'node:path';
import { output, shared } from './vite.config.ts';

export default defineConfig({
  ...shared,
  build: {
    ...shared.build,
    emptyOutDir: false,
    rollupOptions: { input: { widget: resolve(import.meta.dirname, 'widget.html') }, output },
  },
});
