/** `vhost-user breaking --against` in every format, with approvals and its exit codes. */
import { afterAll, describe, expect, it } from 'vitest';
import { cleanupScratch, copyRepo, edit, renumberShmem, vhostUser, write } from './helpers.js';

afterAll(cleanupScratch);

describe('vhost-user breaking', () => {
  it('the working spec breaks nothing against the last release (exit 0)', () => {
    const run = vhostUser(['breaking', '--against', '1.2']);
    expect(run.stdout).toMatch(/^no unapproved breaking changes against 1\.2; \d+ non-breaking change\(s\)/m);
    expect(run.code).toBe(0);
  });

  const broken = copyRepo();
  const line = renumberShmem(broken);

  it('text: the rule, category and YAML line of a break; exit 1', () => {
    const run = vhostUser(['breaking', '--against', '1.2'], broken);
    expect(run.stdout).toContain(
      `error spec/features/protocol.yaml:${line}:10: feature-bit-renumbered [WIRE] VHOST_USER_PROTOCOL_F_SHMEM: bit 22 -> 24`,
    );
    expect(run.stdout).toContain('1 breaking change(s) against 1.2');
    expect(run.code).toBe(1);
  });

  it('json: verdict and the breaking changes', () => {
    const run = vhostUser(['breaking', '--against', '1.2', '--format', 'json'], broken);
    const out = JSON.parse(run.stdout) as {
      verdict: string;
      breaking: { rule: string; category: string; loc: { line: number } }[];
    };
    expect(out.verdict).toBe('breaking');
    expect(out.breaking).toMatchObject([{ rule: 'feature-bit-renumbered', category: 'WIRE', loc: { line } }]);
    expect(run.code).toBe(1);
  });

  it('github-actions: an error annotation at the YAML line', () => {
    const run = vhostUser(['breaking', '--against', '1.2', '--format', 'github-actions'], broken);
    expect(run.stdout).toContain(
      `::error file=spec/features/protocol.yaml,line=${line},col=10,title=feature-bit-renumbered (WIRE)::VHOST_USER_PROTOCOL_F_SHMEM: bit 22 -> 24`,
    );
    expect(run.code).toBe(1);
  });

  it('junit: one case per rule, the triggered rule failing', () => {
    const run = vhostUser(['breaking', '--against', '1.2', '--format', 'junit'], broken);
    expect(run.stdout).toContain('<testcase name="message-id-changed" classname="breaking.WIRE"/>');
    expect(run.stdout).toMatch(
      /<testcase name="feature-bit-renumbered" classname="breaking.WIRE">\n\s+<failure message="VHOST_USER_PROTOCOL_F_SHMEM: bit 22 -&gt; 24/,
    );
    expect(run.stdout).toContain('failures="1"');
    expect(run.code).toBe(1);
  });

  it('an approval accepts the break, which is still reported (exit 0)', () => {
    const approved = copyRepo();
    renumberShmem(approved);
    edit(
      approved,
      'spec/approvals.yaml',
      'approvals:\n',
      'approvals:\n  - rule: feature-bit-renumbered\n    name: VHOST_USER_PROTOCOL_F_SHMEM\n    from: "1.2"\n    reason: Test approval; every implementation agreed to move the bit.\n    acknowledgedBy: [qemu, rust-vmm]\n',
    );
    const run = vhostUser(['breaking', '--against', '1.2'], approved);
    expect(run.stdout).toContain('approved spec/features/protocol.yaml');
    expect(run.stdout).toContain('reason: Test approval; every implementation agreed to move the bit.');
    expect(run.stdout).toContain('no unapproved breaking changes against 1.2 (1 approved)');
    expect(run.code).toBe(0);
  });

  it('compares with a spec folder given as a path', () => {
    const run = vhostUser(['breaking', '--against', 'spec/releases/1.1', '--format', 'json']);
    expect(JSON.parse(run.stdout)).toMatchObject({ verdict: 'ok', fromLabel: 'spec/releases/1.1' });
    expect(run.code).toBe(0);
  });

  it('usage and load errors exit 2 and say what and where', () => {
    const missing = vhostUser(['breaking']);
    expect(missing.stderr).toContain('--against <release|git-ref|path> is required');
    expect(missing.code).toBe(2);

    const unknown = vhostUser(['breaking', '--against', 'no-such-ref']);
    expect(unknown.stderr).toContain(
      'cannot find "no-such-ref": it is not a release in spec/releases (1.0, 1.1, 1.2), not a folder, and not a git ref',
    );
    expect(unknown.code).toBe(2);

    const bad = copyRepo();
    write(bad, 'spec/constants.yaml', 'constants:\n  - { name: lower, value: 1, since: "1.0", doc: "x" }\n');
    const run = vhostUser(['breaking', '--against', '1.2'], bad);
    expect(run.stderr).toContain('the working spec (spec/) cannot be loaded');
    expect(run.stderr).toContain(
      'spec/constants.yaml:2:13: error schema: constants.0.name: must be an UPPER_SNAKE_CASE constant name',
    );
    expect(run.code).toBe(2);
  });
});
