// The split-pingpong workload (variant A) on every engine and layout gives the checksums of
// /work/shared/bench/split-pingpong.md.
import { describe, expect, it } from 'vitest';
import * as vring from '@vhost-user/vring';
import { measureVariantA } from '../bench/workload.mjs';
import { ENGINES, LAYOUTS } from './helpers.js';

describe.each(LAYOUTS.flatMap((layout) => ENGINES.map((engine) => ({ layout, engine }))))('split-pingpong, $layout ring, $engine', ({ layout, engine }) => {
  it('N = 1,000 matches the reference checksum', () => {
    expect(measureVariantA(vring, layout, engine, 1000)).toMatchObject({ sum: 507500, hash: 0xb6513db5, errors: 0 });
  });

  it('N = 100,000 gives sum = 8N + N(N-1)/2', () => {
    const n = 100_000;
    expect(measureVariantA(vring, layout, engine, n)).toMatchObject({ sum: 8 * n + (n * (n - 1)) / 2, errors: 0 });
  });
});
