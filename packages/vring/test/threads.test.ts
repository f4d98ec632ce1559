// A driver and a device in two worker threads over one shared memory, exchanging 1M chains whose
// content is checked by the driver (each completion must carry the sector it sent) and by the
// split-pingpong checksum. Workers run the built package (dist/), as Node 20 workers cannot load .ts.
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { linkedModule } from '../bench/linked.mjs';
import * as vring from '@vhost-user/vring';
import { measureVariantB } from '../bench/sides.mjs';

const built = existsSync(new URL('../dist/index.js', import.meta.url));

describe('driver and device in two worker threads', () => {
  it('needs the built package', () => {
    expect(built, 'run `npm run build -w @vhost-user/vring` first').toBe(true);
  });

  it.runIf(built)(
    'exchange 1,000,000 split chains (WebAssembly core) with verified content',
    async () => {
      const r = await measureVariantB(vring, { layout: 'split', engine: 'wasm', api: 'batch' }, 1_000_000, 0);
      expect(r).toMatchObject({ sum: 500007500000, hash: 0xb2f72d45, errors: 0 });
    },
    60_000,
  );

  it.runIf(built)(
    'exchange 1,000,000 split chains (TypeScript path, fused calls) with verified content',
    async () => {
      const r = await measureVariantB(vring, { layout: 'split', engine: 'ts', api: 'fused' }, 1_000_000, 0);
      expect(r).toMatchObject({ sum: 500007500000, hash: 0xb2f72d45, errors: 0 });
    },
    60_000,
  );

  it.runIf(built)(
    'exchange 1,000,000 split chains (AssemblyScript linked with the core, one side per thread)',
    async () => {
      const r = await measureVariantB(
        vring,
        { layout: 'split', engine: 'wasm', api: 'linked' },
        1_000_000,
        0,
        linkedModule(),
      );
      expect(r).toMatchObject({ sum: 500007500000, hash: 0xb2f72d45, errors: 0 });
    },
    60_000,
  );

  it.runIf(built)(
    'exchange 200,000 packed chains (TypeScript path) with verified content',
    async () => {
      const r = await measureVariantB(vring, { layout: 'packed', engine: 'ts', api: 'batch' }, 200_000, 0);
      // sum = 8N + N(N-1)/2 (split-pingpong.md).
      expect(r).toMatchObject({ sum: 8 * 200_000 + (200_000 * 199_999) / 2, errors: 0 });
    },
    60_000,
  );
});
