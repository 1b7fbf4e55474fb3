import { defineConfig } from 'vite';

// Relative asset paths and hash routing: `gateless web` (or any static server) serves dist/ as is.
export default defineConfig({
  base: './',
  build: {
    outDir: 'dist',
    sourcemap: false,
    target: 'es2022',
    // @polkadot/api with its types and the sr25519 WASM is most of the bundle.
    chunkSizeWarningLimit: 2048,
    reportCompressedSize: false,
  },
});
