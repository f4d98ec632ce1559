/** `vhost-user decode` and `conformance --list`, called in-process through main(). */
import { describe, expect, it } from 'vitest';
import { encode } from '@vhost-user/codec';
import { main } from '../../src/main.js';
import type { Io } from '../../src/io.js';

function capture(): Io & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, out: (t) => stdout.push(t), err: (t) => stderr.push(t), colour: false, cwd: process.cwd() };
}

describe('vhost-user decode', () => {
  it('decodes pasted bytes with any whitespace', async () => {
    const hex = Buffer.from(encode('frontend', { name: 'VHOST_USER_SET_VRING_NUM', payload: { index: 1, num: 256 } }))
      .toString('hex')
      .replace(/(..)/g, '$1 ')
      .replace(/ (..) /g, ' $1\n ');
    const io = capture();
    expect(await main(['decode', hex], io)).toBe(0);
    expect(io.stdout.join('')).toBe('SET_VRING_NUM request [v1] size=8 index=1 num=256 fds=0');
  });

  it('reports the typed error for bad bytes, and decodes back-end channel requests', async () => {
    const io = capture();
    expect(await main(['decode', '0b000000 01000000 08000000 0000'], io)).toBe(1);
    expect(io.stdout.join('')).toMatch(/^error TRUNCATED: VHOST_USER_GET_VRING_BASE/);
    const back = capture();
    const bytes = Buffer.from(
      encode('backend', { name: 'VHOST_USER_BACKEND_CONFIG_CHANGE_MSG', payload: null }),
    ).toString('hex');
    expect(await main(['decode', '--channel', 'backend', '--json', bytes], back)).toBe(0);
    expect(JSON.parse(back.stdout.join(''))).toMatchObject({
      name: 'VHOST_USER_BACKEND_CONFIG_CHANGE_MSG',
      kind: 'request',
      fds: 0,
    });
  });

  it('rejects non-hex input as a usage error', async () => {
    const io = capture();
    expect(await main(['decode', 'zz'], io)).toBe(2);
  });
});

describe('vhost-user conformance --list', () => {
  it('lists derived and hand-written cases with anchors and levels', async () => {
    const io = capture();
    expect(await main(['conformance', '--list', '--format', 'json'], io)).toBe(0);
    const cases = JSON.parse(io.stdout.join('')) as {
      id: string;
      level: string;
      anchor: string;
      derivedFrom?: string;
    }[];
    expect(cases.find((c) => c.id === 'gating/GET_QUEUE_NUM')).toMatchObject({
      level: 'SHOULD',
      derivedFrom: 'messages: VHOST_USER_GET_QUEUE_NUM.gate',
    });
    expect(cases.find((c) => c.id === 'rings/start-on-kick')?.anchor).toBe('rings.html#start-on-kick');
    for (const c of cases) expect(c.anchor).toMatch(/^[a-z-]+\.html#/);
  });

  it('--only selects a section', async () => {
    const io = capture();
    expect(await main(['conformance', '--list', '--only', 'config'], io)).toBe(0);
    expect(io.stdout.length).toBe(4);
    expect(await main(['conformance', '--list', '--only', 'nothing'], capture())).toBe(2);
  });
});
