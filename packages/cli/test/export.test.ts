/** `vhost-user export --format rst`, run as a user runs it. */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { vhostUser } from './helpers.js';

describe('vhost-user export', () => {
  it('writes a release as reStructuredText, with a target per message', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vhost-user-export-'));
    try {
      const out = join(dir, 'vhost-user.rst');
      const run = vhostUser(['export', '--format', 'rst', '--version', '1.0', '--out', out]);
      expect(run.stderr).toContain('wrote 1.0 as reStructuredText');
      expect(run.code).toBe(0);
      const text = readFileSync(out, 'utf8');
      expect(text).toContain('.. _VHOST_USER_SET_VRING_ADDR:');
      expect(text).toContain('.. list-table::');
      expect(text).not.toContain('VHOST_USER_GET_SHMEM_CONFIG');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 90_000);

  it('says what was wrong with the options, and what to pass', () => {
    const noFormat = vhostUser(['export']);
    expect(noFormat.code).toBe(2);
    expect(noFormat.stderr).toContain('--format rst');
    const badVersion = vhostUser(['export', '--format', 'rst', '--version', '9.9']);
    expect(badVersion.code).toBe(2);
    expect(badVersion.stderr).toMatch(/no version 9\.9 .*there are 1\.0, 1\.1, 1\.2, draft/);
    const badFormat = vhostUser(['export', '--format', 'html']);
    expect(badFormat.code).toBe(2);
    expect(badFormat.stderr).toContain('--format must be one of rst');
  }, 90_000);
});
