/** The installed command as a user runs it (node bin/vhost-user.mjs, a separate process). */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { encode } from '@vhost-user/codec';
import { BlkBackendDevice, VhostUserBackend } from '@vhost-user/transport';
import { repoRoot, vhostUser } from '../helpers.js';

/** Spawns the CLI without blocking this process (the back-end under test runs in it). */
function vhostUserAsync(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(repoRoot, 'packages/cli/bin/vhost-user.mjs'), ...args], {
      cwd: repoRoot,
      env: { ...process.env, NO_COLOR: '1' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('vhost-user (spawned)', () => {
  it('conformance --list prints one line per case', () => {
    const run = vhostUser(['conformance', '--list']);
    expect(run.code, run.stderr).toBe(0);
    const lines = run.stdout.trim().split('\n');
    expect(lines.length).toBeGreaterThan(50);
    expect(lines.find((l) => l.includes('rings/start-on-kick'))).toMatch(
      /^MUST\s+rings\/start-on-kick\s+rings\.html#start-on-kick/,
    );
  });

  it('decode prints the decoded message', () => {
    const hex = Buffer.from(
      encode('frontend', { name: 'VHOST_USER_GET_VRING_BASE', payload: { index: 0, num: 0 } }),
    ).toString('hex');
    const run = vhostUser(['decode', hex]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout.trim()).toBe('GET_VRING_BASE request [v1] size=8 index=0 num=0 fds=0');
  });

  it('conformance --backend --format json against the TS back-end', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vu-cli-smoke-'));
    writeFileSync(join(dir, 'disk.img'), Buffer.alloc(1 << 20));
    const backend = new VhostUserBackend(join(dir, 'blk.sock'), () => new BlkBackendDevice(join(dir, 'disk.img')), {
      memoryBytes: 16 << 20,
    });
    await backend.listen();
    try {
      const run = await vhostUserAsync([
        'conformance',
        '--backend',
        join(dir, 'blk.sock'),
        '--device',
        'blk',
        '--only',
        'rings,header',
        '--impl',
        'ts-backend',
        '--format',
        'json',
      ]);
      expect(run.code, run.stderr).toBe(0);
      const report = JSON.parse(run.stdout) as {
        ok: boolean;
        implementation: string;
        results: { id: string; outcome: string }[];
      };
      expect(report.ok).toBe(true);
      expect(report.implementation).toBe('@vhost-user/transport');
      expect(report.results.find((r) => r.id === 'rings/start-on-kick')?.outcome).toBe('pass');
      expect(report.results.find((r) => r.id === 'header/reserved-flags-ignored')?.outcome).toBe('known-divergence');
    } finally {
      backend.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
