import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = (path: string) => fileURLToPath(new URL(path, import.meta.url));

export default defineConfig({
  resolve: {
    // Tests run against the TypeScript sources; the pack test checks the built package.
    alias: [
      { find: /^@vhost-user\/codec\/runtime$/, replacement: src('./packages/codec/src/runtime/index.ts') },
      { find: /^@vhost-user\/codec$/, replacement: src('./packages/codec/src/index.ts') },
      { find: /^@vhost-user\/vring$/, replacement: src('./packages/vring/src/index.ts') },
      { find: /^@vhost-user\/transport$/, replacement: src('./packages/transport/src/index.ts') },
      { find: /^@vhost-user\/generator\/matrix-format$/, replacement: src('./generator/src/matrix-format.ts') },
      { find: /^@vhost-user\/generator$/, replacement: src('./generator/src/index.ts') },
    ],
  },
  test: {
    include: ['generator/test/**/*.test.ts', 'packages/*/test/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
