// The split-pingpong workload (variant A) on every engine, layout and API gives the checksums of
// bench/WORKLOAD.md: the JavaScript batch calls, the fused calls (serve,
// submit, reclaimFold) and the AssemblyScript program linked with the core's library.
import { beforeAll, describe, expect, it } from 'vitest';
import * as vring from '@vhost-user/vring';
import { linkedModule } from '../bench/linked.mjs';
import { measureVariantA, type Implementation } from '../bench/sides.mjs';
import { ENGINES, LAYOUTS } from './helpers.js';

let module: WebAssembly.Module;
beforeAll(() => {
  module = linkedModule();
}, 60_000);

const IMPLEMENTATIONS: Implementation[] = [
  ...LAYOUTS.flatMap((layout) =>
    ENGINES.flatMap((engine) => (['batch', 'fused'] as const).map((api) => ({ layout, engine, api }))),
  ),
  { layout: 'split', engine: 'wasm', api: 'linked' },
  { layout: 'packed', engine: 'wasm', api: 'linked' },
];

describe.each(IMPLEMENTATIONS)('split-pingpong, $layout ring, $engine, $api calls', (impl) => {
  it('N = 1,000 matches the reference checksum', () => {
    expect(measureVariantA(vring, impl, 1000, module)).toMatchObject({ sum: 507500, hash: 0xb6513db5, errors: 0 });
  });

  it('N = 100,000 gives sum = 8N + N(N-1)/2', () => {
    const n = 100_000;
    expect(measureVariantA(vring, impl, n, module)).toMatchObject({ sum: 8 * n + (n * (n - 1)) / 2, errors: 0 });
  });
});
