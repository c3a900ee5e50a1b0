// Builds the explorer into explorer/dist: a static page (relative paths, so any static server
// or a file under a sub-path can serve it).
import { fileURLToPath } from 'node:url';

import { defineConfig } from 'vite';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: './',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // @polkadot/api with its wasm crypto is one large chunk; that is expected here.
    chunkSizeWarningLimit: 4096,
  },
});
