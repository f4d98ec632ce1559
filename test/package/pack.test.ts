/**
 * The published shape of @vhost-user/codec: `npm pack` produces a tarball that a fresh project
 * installs, imports from plain Node (ESM, no TypeScript loader) and type-checks against.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = join(new URL('.', import.meta.url).pathname, '../..');
const work = mkdtempSync(join(tmpdir(), 'vhost-user-pack-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const consumer = `
import { decode, encode, FrontendRequest, ProtocolFeature, protocolFeatureNames, VhostUserError, type DecodedMessage } from '@vhost-user/codec';

const bytes: Uint8Array = encode('frontend', { name: 'VHOST_USER_SET_VRING_NUM', payload: { index: 0, num: 256 } });
const msg: DecodedMessage<'frontend'> = decode('frontend', bytes);
if (msg.kind !== 'request' || msg.name !== 'VHOST_USER_SET_VRING_NUM') throw new Error('wrong message');
const num: number = msg.payload.num;
let code = '';
try {
  decode('frontend', bytes.subarray(0, 5));
} catch (error) {
  if (error instanceof VhostUserError) code = error.code;
}
console.log(JSON.stringify({ id: FrontendRequest.VHOST_USER_SET_VRING_NUM, num, code, names: protocolFeatureNames(1n << BigInt(ProtocolFeature.VHOST_USER_PROTOCOL_F_SHMEM)) }));
`;

describe('@vhost-user/codec tarball', () => {
  it('installs into a new project, imports and type-checks', () => {
    execFileSync('npm', ['pack', '--silent', '--pack-destination', work], {
      cwd: join(root, 'packages/codec'),
      stdio: 'pipe',
    });
    const tarball = readdirSync(work).find((f) => f.endsWith('.tgz'));
    expect(tarball).toBeDefined();
    const listing = execFileSync('tar', ['-tzf', join(work, tarball as string)], { encoding: 'utf8' });
    expect(listing).toContain('package/dist/index.js');
    expect(listing).toContain('package/dist/index.d.ts');
    expect(listing).toContain('package/dist/generated/payloads.js');
    expect(listing).not.toContain('package/src/');

    const app = join(work, 'app');
    execFileSync('mkdir', ['-p', app]);
    writeFileSync(
      join(app, 'package.json'),
      JSON.stringify({
        name: 'app',
        private: true,
        type: 'module',
        dependencies: { '@vhost-user/codec': `file:../${tarball}` },
      }),
    );
    writeFileSync(
      join(app, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          outDir: 'out',
          skipLibCheck: false,
          types: [],
        },
        files: ['index.ts'],
      }),
    );
    writeFileSync(join(app, 'index.ts'), consumer);
    execFileSync('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--silent'], {
      cwd: app,
      stdio: 'pipe',
    });
    execFileSync(join(root, 'node_modules/.bin/tsc'), ['-p', 'tsconfig.json'], { cwd: app, stdio: 'pipe' });
    const out = execFileSync(process.execPath, ['out/index.js'], { cwd: app, encoding: 'utf8' });
    expect(JSON.parse(out)).toEqual({ id: 8, num: 256, code: 'TRUNCATED', names: ['VHOST_USER_PROTOCOL_F_SHMEM'] });
  }, 180_000);
});
