/**
 * Issue #13 from the command line: prose normative-level changes in `breaking`, the
 * vhost-user.yaml config (rule selection, warnings raised, ignores reported), `--path`,
 * `rules --lint`, and every release passing `breaking` with only approved changes.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { cleanupScratch, copyRepo, edit, lineOf, vhostUser, write } from './helpers.js';

afterAll(cleanupScratch);

const weakened = copyRepo();
edit(
  weakened,
  'spec/prose/rings.md',
  'The back-end MUST reject a size it cannot handle,',
  'The back-end SHOULD reject a size it cannot handle,',
);
const weakLine = lineOf(weakened, 'spec/prose/rings.md', 'The back-end SHOULD reject a size');
// Only a line break moves between MUST and NOT: the level is the same, nothing to report.
edit(
  weakened,
  'spec/prose/rings.md',
  'the back-end MUST NOT read or write the ring.',
  'the back-end MUST\nNOT read or write the ring.',
);

describe('breaking: prose normative levels', () => {
  const finding = `spec/prose/rings.md:${weakLine}:58: prose-normative-changed [BEHAVIOR] setting-up-a-ring: section "Setting up a ring": normative level changed: MUST -> SHOULD (a person must review)`;

  it('text: a warning at the changed line, exit 0 by default', () => {
    const run = vhostUser(['breaking', '--against', '1.2'], weakened);
    expect(run.stdout).toContain(`warning ${finding}`);
    expect(run.stdout).not.toMatch(/rings\.md:\d+:\d+: prose-normative-changed .*MUST NOT/);
    expect(run.code).toBe(0);
  });

  it('json, github-actions and junit carry it too', { timeout: 180_000 }, () => {
    const json = JSON.parse(vhostUser(['breaking', '--against', '1.2', '--format', 'json'], weakened).stdout) as {
      warnings: { rule: string; loc: { file: string; line: number } }[];
    };
    expect(json.warnings).toContainEqual(
      expect.objectContaining({
        rule: 'prose-normative-changed',
        loc: { file: 'spec/prose/rings.md', line: weakLine, column: 58 },
      }),
    );
    const gha = vhostUser(['breaking', '--against', '1.2', '--format', 'github-actions'], weakened).stdout;
    expect(gha).toContain(
      `::warning file=spec/prose/rings.md,line=${weakLine},col=58,title=prose-normative-changed (BEHAVIOR)::`,
    );
    const xml = vhostUser(['breaking', '--against', '1.2', '--format', 'junit'], weakened).stdout;
    expect(xml).toMatch(
      /<testcase name="prose-normative-changed" classname="breaking.BEHAVIOR">\n\s+<system-out>[^<]*warning spec\/prose\/rings\.md:\d+:58: prose-normative-changed/,
    );
  });

  it('vhost-user.yaml can make it an error (exit 1)', () => {
    const root = copyRepo();
    edit(root, 'spec/prose/rings.md', 'The back-end MUST reject a size', 'The back-end SHOULD reject a size');
    write(root, 'vhost-user.yaml', 'breaking:\n  error: [prose-normative-changed]\n');
    const run = vhostUser(['breaking', '--against', '1.2'], root);
    expect(run.stdout).toMatch(/^error spec\/prose\/rings\.md:\d+:58: prose-normative-changed/m);
    expect(run.code).toBe(1);
  });
});

describe('vhost-user.yaml and --path', () => {
  it('ignores need a reason and are reported, never silent', { timeout: 180_000 }, () => {
    const root = copyRepo();
    edit(root, 'spec/prose/rings.md', '## Split rings', '## Split rings in the draft');
    write(
      root,
      'vhost-user.yaml',
      'lint:\n  ignore:\n    - path: spec/prose/rings.md\n      rules: [draft-heading]\n      reason: The heading is renamed before the next release.\n',
    );
    const run = vhostUser(['lint'], root);
    expect(run.stdout).toContain('ignored spec/prose/rings.md:');
    expect(run.stdout).toContain(
      'by vhost-user.yaml vhost-user.yaml:3:7: The heading is renamed before the next release.',
    );
    expect(run.stdout).toContain('1 finding(s) ignored by vhost-user.yaml');
    expect(run.code).toBe(0);
    write(root, 'vhost-user.yaml', 'lint:\n  ignore:\n    - path: spec/prose/rings.md\n');
    const bad = vhostUser(['lint'], root);
    expect(bad.stderr).toContain('vhost-user.yaml:3:7: error schema: lint.ignore.0.reason:');
    expect(bad.code).toBe(2);
  });

  it('use/except select rules; an unknown id gets a suggestion', { timeout: 180_000 }, () => {
    const root = copyRepo();
    write(root, 'vhost-user.yaml', 'lint:\n  except: [draft-headng]\n');
    const run = vhostUser(['lint'], root);
    expect(run.stderr).toContain('lint.except: unknown lint rule "draft-headng" (did you mean "draft-heading"?)');
    expect(run.code).toBe(2);
    write(root, 'vhost-user.yaml', 'lint:\n  except: [draft-heading]\n');
    const rules = JSON.parse(vhostUser(['rules', '--lint', '--format', 'json'], root).stdout) as {
      rules: { id: string; selected: boolean }[];
    };
    expect(rules.rules.find((r) => r.id === 'draft-heading')?.selected).toBe(false);
    expect(rules.rules.find((r) => r.id === 'fill-in')?.selected).toBe(true);
  });

  it('--path limits lint to a file or folder', { timeout: 180_000 }, () => {
    const root = copyRepo();
    edit(root, 'spec/messages/frontend.yaml', '    id: 8\n', '    id: "eight"\n');
    expect(vhostUser(['lint', '--path', 'spec/prose'], root).code).toBe(0);
    const run = vhostUser(['lint', '--path', 'spec/messages/frontend.yaml'], root);
    expect(run.stdout).toContain('spec/messages/frontend.yaml:');
    expect(run.code).toBe(1);
  });

  it('rules --lint lists the lint rules as text', () => {
    const run = vhostUser(['rules', '--lint']);
    expect(run.stdout).toMatch(/^fill-in\s+lint\s+error\s+No placeholder/m);
    expect(run.stdout).toMatch(/^yaml-syntax\s+loader/m);
    expect(run.code).toBe(0);
  });
});

describe('governance: every release against the draft', () => {
  it.each(['1.0', '1.1', '1.2'])('breaking --against %s passes, listing only approved changes', (version) => {
    const run = vhostUser(['breaking', '--against', version]);
    expect(run.stdout).not.toMatch(/^error /m);
    expect(run.stdout).toContain(`no unapproved breaking changes against ${version}`);
    expect(run.code).toBe(0);
  });
});

describe('review report', () => {
  it(
    'shows new messages with their rules, C and Rust changes, CHANGELOG contradictions, an unticked editor item',
    { timeout: 600_000 },
    () => {
      const root = copyRepo();
      expect(vhostUser(['new', 'feature', 'SHMEM_STATS'], root).code).toBe(0);
      expect(vhostUser(['new', 'message', 'GET_SHMEM_STATS', '--gate', 'SHMEM_STATS'], root).code).toBe(0);
      edit(
        root,
        'CHANGELOG.md',
        '`VHOST_USER_PROTOCOL_F_SHMEM_STATS` (bit 24)',
        '`VHOST_USER_PROTOCOL_F_SHMEM_STATS` (bit 6)',
      );
      edit(root, 'spec/prose/rings.md', 'The back-end MUST reject a size', 'The back-end SHOULD reject a size');
      const run = vhostUser(['review', '--base', '1.2'], root);
      expect(run.code).toBe(0);
      expect(run.stdout).toContain(
        '| `VHOST_USER_GET_SHMEM_STATS` | 46 | front-end | none | `VHOST_USER_PROTOCOL_F_SHMEM_STATS` | ack (with REPLY_ACK and need_reply) | none / none | proposed, since draft |',
      );
      expect(run.stdout).toContain('## Generated C and Rust API');
      expect(run.stdout).toContain('`#define VHOST_USER_PROTOCOL_F_SHMEM_STATS`');
      expect(run.stdout).toContain('`protocol_feature::SHMEM_STATS`');
      expect(run.stdout).toContain('says VHOST_USER_PROTOCOL_F_SHMEM_STATS is bit 6; the data gives bit 24.');
      expect(run.stdout).toMatch(
        /- \[ \] an editor read every normative change \(0 BEHAVIOR rule\(s\), [1-9]\d* prose change\(s\)/,
      );
      expect(run.stdout).toMatch(/- \[ \] the CHANGELOG's numbers agree with the tables/);
    },
  );
});
