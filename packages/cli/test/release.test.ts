/** `vhost-user release`, only ever in a temporary copy of the repository. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkRepository } from '@vhost-user/generator';
import { cleanupScratch, copyRepo, edit, read, vhostUser } from './helpers.js';

afterAll(cleanupScratch);

const NEW_BIT = `  - name: VHOST_USER_PROTOCOL_F_SHMEM_STATS
    bit: 24
    summary: The back-end reports how much of each shared memory region is mapped.
    since: draft
    status: proposed
`;

describe('vhost-user release', () => {
  it(
    'freezes the draft, accepts proposals, writes the CHANGELOG, bumps the codec, keeps lint clean',
    { timeout: 300_000 },
    () => {
      const root = copyRepo();
      edit(
        root,
        'spec/features/protocol.yaml',
        '  - name: VHOST_USER_PROTOCOL_F_GET_VRING_BASE_SKIP_DRAIN\n',
        `${NEW_BIT}  - name: VHOST_USER_PROTOCOL_F_GET_VRING_BASE_SKIP_DRAIN\n`,
      );
      const prose = read(root, 'spec/prose/protocol-features.md');
      edit(
        root,
        'spec/prose/protocol-features.md',
        prose,
        `${prose.trimEnd()}\n\n## VHOST_USER_PROTOCOL_F_SHMEM_STATS\n::feature{name=VHOST_USER_PROTOCOL_F_SHMEM_STATS}\n\nThe back-end reports shared memory usage.\n`,
      );
      const unreleased = read(root, 'CHANGELOG.md').split('## Unreleased\n\n')[1]?.split('\n## ')[0]?.trim() ?? '';

      const run = vhostUser(['release', '1.3', '--date', '2026-06-01'], root);
      expect(run.stderr).toBe('');
      expect(run.stdout).toContain('released 1.3 (previous 1.2): spec/releases/1.3/');
      expect(run.code).toBe(0);

      const meta = read(root, 'spec/releases/1.3/spec.yaml');
      expect(meta).toMatch(/^# Frozen release 1\.3 of the vhost-user protocol/);
      expect(meta).toContain(
        'version: "1.3"\nstatus: frozen\nprevious: "1.2"\nrelease:\n  version: "1.3"\n  date: 2026-06-01\n',
      );
      expect(read(root, 'spec/spec.yaml')).toContain('previous: "1.3"');
      for (const file of ['spec/features/protocol.yaml', 'spec/releases/1.3/features/protocol.yaml']) {
        expect(read(root, file)).toContain(
          '  - name: VHOST_USER_PROTOCOL_F_SHMEM_STATS\n    bit: 24\n    summary: The back-end reports how much of each shared memory region is mapped.\n    since: "1.3"\n    status: stable\n',
        );
      }
      expect(existsSync(join(root, 'spec/releases/1.3/approvals.yaml'))).toBe(false);

      const changelog = read(root, 'CHANGELOG.md');
      expect(changelog).toMatch(/## Unreleased\n\n## 1\.3\n\nReleased 2026-06-01\.\n/);
      expect(changelog.split('## 1.3')[1]?.split('\n## 1.2')[0]).toContain(unreleased);
      expect(changelog).toContain('  - added VHOST_USER_PROTOCOL_F_SHMEM_STATS as protocol-feature bit 24');
      expect(changelog.indexOf('## 1.3')).toBeLessThan(changelog.indexOf('## 1.2'));

      expect(JSON.parse(read(root, 'packages/codec/package.json'))).toMatchObject({ version: '0.2.0' });
      expect(JSON.parse(read(root, 'packages/cli/package.json'))).toMatchObject({
        dependencies: { '@vhost-user/codec': '0.2.0' },
      });
      expect(read(root, 'package-lock.json')).not.toContain('"@vhost-user/codec": "0.1.0"');
      expect(existsSync(join(root, 'generated/releases/1.3.json'))).toBe(true);

      expect(checkRepository(root).issues).toEqual([]);
      const again = vhostUser(['breaking', '--against', '1.3'], root);
      expect(again.code).toBe(0);

      // The README's release table gains the row, and the tag consumers pin is spelled out.
      expect(read(root, 'README.md')).toMatch(/\| 1\.2 \| .*\|\n\| 1\.3 \| Release 1\.3: .* \| not yet recorded \|\n/);
      expect(run.stdout).toContain("git tag -a v1.3 -m 'vhost-user specification 1.3: Release 1.3:");
    },
  );

  it('refuses while a heading uses a word only true of the draft', { timeout: 300_000 }, () => {
    const root = copyRepo();
    edit(root, 'spec/prose/rings.md', '## Split rings', '## Split rings proposed in the draft');
    const run = vhostUser(['release', '1.3'], root);
    expect(run.stderr).toMatch(
      /spec\/prose\/rings\.md:\d+:1: warning draft-heading: heading "Split rings proposed in the draft"/,
    );
    expect(run.stderr).toContain('1 heading(s) use words only true of the draft');
    expect(run.code).toBe(1);
    expect(existsSync(join(root, 'spec/releases/1.3'))).toBe(false);
  });

  it('refuses an existing or older version (exit 1) and a malformed one (exit 2)', { timeout: 300_000 }, () => {
    const root = copyRepo();
    const existing = vhostUser(['release', '1.2'], root);
    expect(existing.stderr).toContain('release 1.2: refused, spec/releases/1.2 already exists');
    expect(existing.code).toBe(1);
    const older = vhostUser(['release', '1.1.5'], root);
    expect(older.stderr).toContain('"1.1.5" is not a release number such as 1.3');
    expect(older.code).toBe(2);
    expect(existsSync(join(root, 'spec/releases/1.3'))).toBe(false);
  });

  it('refuses while an unapproved breaking change remains', { timeout: 300_000 }, () => {
    const root = copyRepo();
    edit(root, 'spec/payloads/shmem.yaml', '{ name: len, type: u64,', '{ name: len, type: i64,');
    const run = vhostUser(['release', '1.3'], root);
    expect(run.stderr).toContain('field-changed: MMap: MMap.len: signedness u64 -> i64');
    expect(run.stderr).toContain('release 1.3: refused, 1 unapproved breaking change(s) against 1.2');
    expect(run.code).toBe(1);
    expect(existsSync(join(root, 'spec/releases/1.3'))).toBe(false);
  });
});
