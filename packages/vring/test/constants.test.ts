// The TypeScript path's constants (src/generated/constants.ts, committed) are the ones the build
// writes for both engines from the codec's ring layouts: a stale file fails here.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as K from '../src/generated/constants.js';
import { engineConstants, typeScriptSource } from '../scripts/constants.js';

describe('engine constants', () => {
  it('src/generated/constants.ts is what scripts/build-core.ts writes', () => {
    const committed = readFileSync(new URL('../src/generated/constants.ts', import.meta.url), 'utf8');
    expect(committed).toBe(typeScriptSource(engineConstants()));
  });

  it('names the layout numbers as the core does', () => {
    expect(K.CONTROL_STATUS).toBe(52);
    expect(K.SPLIT_DESC_SIZE).toBe(16);
    expect(K.PACKED_F_AVAIL).toBe(1 << 7);
    expect(K.PACKED_F_USED).toBe(1 << 15);
    expect(K.REJECT_USED_INDEX_TOO_FAR).toBe(14);
  });
});
