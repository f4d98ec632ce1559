/** spec/approvals.yaml: accepting one breaking change, reported as approved. */
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { applyApprovals, diffModels, loadApprovals, unapprovedBreaks, type Approval } from '../../src/index.js';
import { loadPair, readPairs, repoRoot } from './pairs.js';

const scratch = mkdtempSync(join(tmpdir(), 'vhost-user-approvals-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const pair = readPairs().find((p) => p.name === 'feature-bit-renumbered');
if (!pair) throw new Error('fixture feature-bit-renumbered is missing');
const { from, to } = loadPair(scratch, pair.name, pair.pair);
const diff = diffModels(from, to);

const approval: Approval = {
  rule: 'feature-bit-renumbered',
  name: 'VHOST_USER_PROTOCOL_F_SHMEM',
  reason: 'No implementation shipped bit 20 outside a pre-release crate; every maintainer agreed.',
  acknowledgedBy: ['qemu', 'rust-vmm'],
};

describe('approvals', () => {
  it('an approval marks the matching break as approved and keeps it in the report', () => {
    const { diff: approved, unused } = applyApprovals(diff, [approval]);
    const change = approved.changes.find((c) => c.rule === 'feature-bit-renumbered');
    expect(change?.breaking).toBe(true);
    expect(change?.approved).toEqual({ reason: approval.reason, acknowledgedBy: approval.acknowledgedBy });
    expect(unapprovedBreaks(approved)).toEqual([]);
    expect(unused).toEqual([]);
  });

  it('an approval for another item or path matches nothing and is returned as unused; one for another release is not about this comparison', () => {
    const others: Approval[] = [
      { ...approval, name: 'VHOST_USER_PROTOCOL_F_GPA_ADDRESSES' },
      { ...approval, path: 'requires' },
      { ...approval, from: '1.0' },
    ];
    const { diff: result, unused } = applyApprovals(diff, others);
    expect(unapprovedBreaks(result).map((c) => c.rule)).toEqual(['feature-bit-renumbered']);
    expect(unused).toEqual(others.slice(0, 2));
  });

  it('the repository approvals file is valid', () => {
    const { issues } = loadApprovals(join(repoRoot, 'spec'), repoRoot);
    expect(issues).toEqual([]);
  });

  it('a malformed approval is reported at its file:line', () => {
    const dir = join(scratch, 'bad');
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, 'approvals.yaml'),
      'approvals:\n  - rule: no-such-rule\n    name: X\n    reason: too short\n    acknowledgedBy: [qemu]\n',
    );
    const { approvals, issues } = loadApprovals(dir, scratch);
    expect(approvals).toEqual([]);
    expect(issues.map((i) => `${i.loc.file}:${i.loc.line} ${i.message.split(':')[0]}`)).toEqual([
      'bad/approvals.yaml:2 approvals.0.rule',
      'bad/approvals.yaml:4 approvals.0.reason',
    ]);
  });
});
