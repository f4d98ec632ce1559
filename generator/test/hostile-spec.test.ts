/**
 * A spec folder is untrusted input (pull requests): links out of the repository, huge files,
 * huge lists, deep nesting and alias bombs must each give a located issue naming the file, and
 * never a crash, a hang or the text of a file outside the repository.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SPEC_FILE_MAX_BYTES, YAML_LIMITS, checkRepository, loadRepository, type SpecIssue } from '../src/index.js';

const minimal = join(new URL('.', import.meta.url).pathname, 'fixtures/minimal');
const scratch = mkdtempSync(join(tmpdir(), 'vhost-user-hostile-spec-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** An outside file with a marker that must never reach the model. */
const SECRET = join(scratch, 'secret.md');
writeFileSync(SECRET, '# Secret\n\nOUTSIDE-MARKER text that must not be read.\n');

let count = 0;
function fixture(): string {
  const root = join(scratch, `case${count++}`);
  cpSync(minimal, root, { recursive: true });
  return root;
}

function issuesOf(root: string): SpecIssue[] {
  return checkRepository(root).issues;
}

function located(issues: SpecIssue[], rule: string): SpecIssue {
  const issue = issues.find((i) => i.rule === rule);
  expect(issue, issues.map((i) => `${i.loc.file}:${i.loc.line} ${i.rule}: ${i.message}`).join('\n')).toBeDefined();
  return issue as SpecIssue;
}

describe('links out of the spec folder (D7)', () => {
  it('refuses a prose chapter linked to an outside file, and does not read it', () => {
    const root = fixture();
    const chapter = join(root, 'spec/prose/messages.md');
    rmSync(chapter);
    symlinkSync(SECRET, chapter);
    const { repo, issues } = loadRepository(root);
    const issue = located(issues, 'spec-file');
    expect(issue.loc).toMatchObject({ file: 'spec/prose/messages.md', line: 1 });
    expect(issue.message).toContain('symbolic link');
    expect(JSON.stringify(repo?.draft.prose ?? [])).not.toContain('OUTSIDE-MARKER');
  });

  it('refuses a YAML file, a folder of YAML files and a release folder linked outside', () => {
    const root = fixture();
    const outside = join(scratch, `outside${count}`);
    mkdirSync(outside);
    // a required file
    renameSync(join(root, 'spec/constants.yaml'), join(outside, 'constants.yaml'));
    symlinkSync(join(outside, 'constants.yaml'), join(root, 'spec/constants.yaml'));
    // a folder of message files
    renameSync(join(root, 'spec/messages'), join(outside, 'messages'));
    symlinkSync(join(outside, 'messages'), join(root, 'spec/messages'));
    const issues = issuesOf(root).filter((i) => i.rule === 'spec-file');
    expect(issues.map((i) => i.loc.file).sort()).toEqual([
      'spec/constants.yaml',
      'spec/messages/backend.yaml',
      'spec/messages/frontend.yaml',
    ]);
    expect(issues.find((i) => i.loc.file === 'spec/messages/frontend.yaml')?.message).toMatch(
      /^messages is a symbolic link/,
    );

    const release = fixture();
    const frozen = join(release, 'spec/releases/1.0');
    renameSync(frozen, join(outside, '1.0'));
    symlinkSync(join(outside, '1.0'), frozen);
    const releaseIssue = located(issuesOf(release), 'spec-file');
    expect(releaseIssue.loc.file).toBe('spec/releases/1.0');
  });

  it('reports a dangling link instead of throwing', () => {
    const root = fixture();
    symlinkSync(join(scratch, 'nowhere.yaml'), join(root, 'spec/messages/extra.yaml'));
    expect(located(issuesOf(root), 'spec-file').loc.file).toBe('spec/messages/extra.yaml');
  });

  it('refuses a FIFO at once instead of waiting for a writer', () => {
    const root = fixture();
    rmSync(join(root, 'spec/constants.yaml'));
    execFileSync('mkfifo', [join(root, 'spec/constants.yaml')]);
    expect(located(issuesOf(root), 'spec-file').message).toBe('constants.yaml is not a regular file');
  });
});

describe('size and shape limits (D8, D9)', () => {
  it('refuses a file over the size cap, naming it', () => {
    const root = fixture();
    const path = join(root, 'spec/messages/frontend.yaml');
    writeFileSync(path, readFileSync(path, 'utf8') + `# ${'x'.repeat(SPEC_FILE_MAX_BYTES)}\n`);
    const issue = located(issuesOf(root), 'spec-file');
    expect(issue.loc.file).toBe('spec/messages/frontend.yaml');
    expect(issue.message).toMatch(/is \d+ bytes; spec files are at most/);
  });

  it('gives a located issue, not a stack overflow, for a list of 200,000 items', () => {
    const root = fixture();
    // 200,000 invalid messages (each a schema problem); a flow list keeps the file under the size cap.
    const list = `[${new Array(200_000).fill('{}').join(',')}]`;
    writeFileSync(join(root, 'spec/messages/frontend.yaml'), `channel: frontend\nmessages: ${list}\n`);
    const issue = located(issuesOf(root), 'yaml-limits');
    expect(issue.loc).toMatchObject({ file: 'spec/messages/frontend.yaml', line: 2, column: 11 });
    expect(issue.message).toBe(`a list has 200000 entries; at most ${YAML_LIMITS.maxEntries} are allowed`);
  });

  it('still reports every schema problem of a long (allowed) list without overflowing the stack', () => {
    const root = fixture();
    const path = join(root, 'spec/messages/frontend.yaml');
    const list = Array.from({ length: YAML_LIMITS.maxEntries }, () => `  - {}`).join('\n');
    writeFileSync(path, `channel: frontend\nmessages:\n${list}\n`);
    const schema = issuesOf(root).filter((i) => i.rule === 'schema');
    expect(schema.length).toBeGreaterThanOrEqual(YAML_LIMITS.maxEntries);
    expect(schema[0]?.loc.file).toBe('spec/messages/frontend.yaml');
  });

  it.each([
    ['flow', `x: ${'['.repeat(100_000)}${']'.repeat(100_000)}\n`],
    ['block', Array.from({ length: 1000 }, (_, i) => `${' '.repeat(i)}- `).join('\n') + 'x\n'],
  ])('refuses %s nesting deeper than the limit with a located issue', (_, text) => {
    const root = fixture();
    writeFileSync(join(root, 'spec/messages/frontend.yaml'), text);
    const issue = located(issuesOf(root), 'yaml-limits');
    expect(issue.loc.file).toBe('spec/messages/frontend.yaml');
    expect(issue.message).toBe(`collections nest deeper than ${YAML_LIMITS.maxDepth} levels`);
  });

  it('names the file and the first alias of an alias bomb', () => {
    const root = fixture();
    const levels = Array.from({ length: 20 }, (_, i) =>
      i === 0 ? '  - &a0 [x, x, x, x]' : `  - &a${i} [*a${i - 1}, *a${i - 1}, *a${i - 1}, *a${i - 1}]`,
    );
    writeFileSync(join(root, 'spec/constants.yaml'), `bomb:\n${levels.join('\n')}\nconstants: []\n`);
    const issue = located(issuesOf(root), 'yaml-limits');
    expect(issue.loc).toMatchObject({ file: 'spec/constants.yaml', line: 3 });
    expect(issue.message).toMatch(/^aliases expand to too many nodes/);
  });
});
