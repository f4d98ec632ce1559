import { describe, expect, it } from 'vitest';
import { VhostUserError, decode, isVhostUserError } from '@vhost-user/codec';

describe('isVhostUserError', () => {
  it('recognises an error made by a second copy of the codec, where instanceof fails', async () => {
    // A query string makes the module loader evaluate the file again: a second class, as when
    // the sources are imported by path next to the built package.
    const secondCopy = '../src/runtime/errors.ts?second-copy';
    const copy = (await import(/* @vite-ignore */ secondCopy)) as typeof import('../src/runtime/errors.js');
    expect(copy.VhostUserError).not.toBe(VhostUserError);
    const foreign = new copy.VhostUserError('TRUNCATED', 'cut short');
    expect(foreign instanceof VhostUserError).toBe(false);
    expect(isVhostUserError(foreign)).toBe(true);
    expect(copy.isVhostUserError(new VhostUserError('BAD_SIZE', 'x'))).toBe(true);
  });

  it('is true for what the decoder throws and false for anything else', () => {
    let thrown: unknown;
    try {
      decode('frontend', new Uint8Array(5));
    } catch (error) {
      thrown = error;
    }
    expect(isVhostUserError(thrown)).toBe(true);
    for (const other of [new Error('x'), new RangeError('y'), null, undefined, 'VhostUserError', { code: 'TRUNCATED' }])
      expect(isVhostUserError(other)).toBe(false);
  });
});
