/** `vhost-user lint` in every format, with its exit codes. */
import { afterAll, describe, expect, it } from 'vitest';
import { cleanupScratch, copyRepo, edit, lineOf, vhostUser } from './helpers.js';

afterAll(cleanupScratch);

describe('vhost-user lint', () => {
  it('passes on the repository (exit 0)', () => {
    const run = vhostUser(['lint']);
    expect(run.stderr).toBe('');
    expect(run.stdout).toMatch(/^spec lint clean \(versions checked: 1\.0, 1\.1, 1\.2, draft\)/m);
    expect(run.code).toBe(0);
  });

  const broken = copyRepo();
  edit(broken, 'spec/messages/frontend.yaml', '    id: 8\n', '    id: "eight"\n');
  const line = lineOf(broken, 'spec/messages/frontend.yaml', 'id: "eight"');

  it('text: names file:line:column and exits 1', () => {
    const run = vhostUser(['lint'], broken);
    expect(run.stdout).toContain(`spec/messages/frontend.yaml:${line}:9: error schema: messages.7.id:`);
    expect(run.code).toBe(1);
    expect(run.stdout).not.toContain('\u001b['); // no colour when not a terminal
  });

  it('json: the issues as data', () => {
    const run = vhostUser(['lint', '--format', 'json'], broken);
    const out = JSON.parse(run.stdout) as {
      clean: boolean;
      issues: { rule: string; loc: { file: string; line: number } }[];
    };
    expect(out.clean).toBe(false);
    expect(out.issues[0]).toMatchObject({ rule: 'schema', loc: { file: 'spec/messages/frontend.yaml', line } });
    expect(run.code).toBe(1);
  });

  it('github-actions: an error annotation at the YAML line', () => {
    const run = vhostUser(['lint', '--format', 'github-actions'], broken);
    expect(run.stdout).toContain(
      `::error file=spec/messages/frontend.yaml,line=${line},col=9,title=spec lint%3A schema::`,
    );
    expect(run.code).toBe(1);
  });

  it('junit: one test case per rule, the schema case failing', () => {
    const run = vhostUser(['lint', '--format', 'junit'], broken);
    expect(run.stdout).toMatch(/^<\?xml/);
    expect(run.stdout).toContain('<testcase name="number-reused" classname="spec.lint"/>');
    expect(run.stdout).toMatch(/<testcase name="schema" classname="spec.lint">\n\s+<failure message="messages.7.id: /);
    expect(run.code).toBe(1);
  });

  it('an unknown format is a usage error (exit 2)', () => {
    const run = vhostUser(['lint', '--format', 'xml']);
    expect(run.stderr).toContain('--format must be one of text, json, github-actions, junit (got xml)');
    expect(run.code).toBe(2);
  });
});
