/**
 * Comparisons with git refs, on a temporary repository: `breaking --against HEAD`, `diff` with
 * a ref, and the `review --base` report.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupScratch, copyRepo, edit, git, renumberShmem, vhostUser } from './helpers.js';

afterAll(cleanupScratch);

let repo = '';
let line = 0;
beforeAll(() => {
  repo = copyRepo();
  git(repo, ['init', '-q']);
  git(repo, ['add', '-A']);
  git(repo, ['commit', '-q', '-m', 'base']);
  line = renumberShmem(repo);
  // A change that removes a released message, to see a location inside the base ref.
  edit(
    repo,
    'spec/messages/frontend.yaml',
    '  - name: VHOST_USER_GET_SHMEM_CONFIG\n    id: 44\n',
    '  - name: VHOST_USER_GET_SHMEM_CONFIG\n    id: 46\n',
  );
});

describe('git refs', () => {
  it('breaking --against HEAD finds the work-tree changes (exit 1)', () => {
    const run = vhostUser(['breaking', '--against', 'HEAD', '--format', 'json'], repo);
    const out = JSON.parse(run.stdout) as {
      fromLabel: string;
      breaking: { rule: string; loc: { file: string; line: number } }[];
    };
    expect(out.fromLabel).toMatch(/^HEAD \([0-9a-f]{7}\)$/);
    expect(out.breaking.map((c) => c.rule).sort()).toEqual(['feature-bit-renumbered', 'message-id-changed']);
    expect(out.breaking.find((c) => c.rule === 'feature-bit-renumbered')?.loc).toMatchObject({
      file: 'spec/features/protocol.yaml',
      line,
    });
    expect(run.code).toBe(1);
  });

  it('diff between a ref and the draft names the ref', () => {
    const run = vhostUser(['diff', 'HEAD', 'draft'], repo);
    expect(run.stdout).toMatch(/^Changes from HEAD \([0-9a-f]{7}\) to working tree: 2 \(2 breaking/);
    expect(run.code).toBe(0);
  });

  it(
    'review --base HEAD: verdict with rule ids, API changes, missing CHANGELOG entry, acknowledgements, checklist',
    { timeout: 300_000 },
    () => {
      const run = vhostUser(['review', '--base', 'HEAD'], repo);
      const report = run.stdout;
      expect(report).toMatch(/^# vhost-user spec review: HEAD \([0-9a-f]{7}\) → working tree/);
      expect(report).toContain(
        '**Breaking:** 2 unapproved breaking change(s) (`message-id-changed`, `feature-bit-renumbered`).',
      );
      expect(report).toContain('| `packages/codec/src/generated/protocol.ts` |');
      expect(report).toContain('FrontendRequest: values or types changed');
      expect(report).toContain('**Missing:** the spec changes but CHANGELOG.md has no new line under "Unreleased".');
      expect(report).toContain(
        '- For a breaking WIRE or BEHAVIOR change (approved in spec/approvals.yaml) (`VHOST_USER_GET_SHMEM_CONFIG (message-id-changed)`, `VHOST_USER_PROTOCOL_F_SHMEM (feature-bit-renumbered)`): maintainers of every implementation: QEMU (`qemu`',
      );
      expect(report).toContain('## Changes from HEAD');
      expect(report).toContain('- [ ] CHANGELOG.md has an entry under "Unreleased"');
      expect(report).toContain('- [ ] `generated/` matches the spec (`npm run generate:check`)');
      expect(report).toContain('- [ ] every breaking change is approved in `spec/approvals.yaml` with a reason');
      expect(run.code).toBe(0);
    },
  );

  it('review sees a new CHANGELOG line under Unreleased', { timeout: 300_000 }, () => {
    edit(repo, 'CHANGELOG.md', '## Unreleased\n\n', '## Unreleased\n\n- Moved SHMEM to bit 24 (test).\n');
    const run = vhostUser(['review', '--base', 'HEAD'], repo);
    expect(run.stdout).toContain('"Unreleased" gains 1 line(s):\n\n> - Moved SHMEM to bit 24 (test).');
    expect(run.stdout).toContain('- [x] CHANGELOG.md has an entry under "Unreleased"');
  });

  it('review without --base is a usage error', () => {
    const run = vhostUser(['review'], repo);
    expect(run.stderr).toContain('review: --base <git-ref> is required');
    expect(run.code).toBe(2);
  });
});
