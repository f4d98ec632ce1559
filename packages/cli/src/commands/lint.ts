/** `vhost-user lint`: the spec checks (loader and lint rules), with file:line:column. */
import { checkRepository, formatIssue, LOADER_RULES, RULES, allVersions, type SpecIssue } from '@vhost-user/generator';
import { format, parse } from '../args.js';
import type { Io } from '../io.js';
import { annotation } from '../output/annotations.js';
import { junit } from '../output/junit.js';
import { style } from '../output/style.js';
import { locateSpec } from '../sources.js';

export const LINT_HELP =
  'vhost-user lint [--spec <dir>] [--format text|json|github-actions|junit]   run the spec checks';

export function runLint(argv: string[], io: Io): number {
  const { values } = parse(argv, { format: { type: 'string' } }, 'lint');
  const fmt = format(values.format, ['text', 'json', 'github-actions', 'junit'] as const, 'text', 'lint');
  const { root, specDir } = locateSpec(values, io.cwd);
  const { repo, issues } = checkRepository(root, specDir);
  const versions = repo ? allVersions(repo).map((m) => m.meta.version) : [];
  if (fmt === 'json') {
    io.out(JSON.stringify({ root, versions, clean: issues.length === 0, issues }, null, 2));
  } else if (fmt === 'github-actions') {
    for (const issue of issues)
      io.out(
        annotation(
          issue.severity === 'error' ? 'error' : 'warning',
          `spec lint: ${issue.rule}`,
          issue.message,
          issue.loc,
        ),
      );
    io.out(
      issues.length === 0
        ? `spec lint clean (versions: ${versions.join(', ')})`
        : `${issues.length} problem(s) in the spec`,
    );
  } else if (fmt === 'junit') {
    const rules = [...LOADER_RULES, ...RULES];
    io.out(
      junit(
        'vhost-user lint',
        rules.map((r) => ({
          name: r.id,
          classname: 'spec.lint',
          failures: issues.filter((i) => i.rule === r.id).map(toFailure),
        })),
      ),
    );
  } else {
    const s = style(io.colour);
    for (const issue of issues)
      io.out(issue.severity === 'error' ? s.red(formatIssue(issue)) : s.yellow(formatIssue(issue)));
    io.out(
      issues.length === 0
        ? s.green(`spec lint clean (versions checked: ${versions.join(', ')})`)
        : `\n${issues.length} problem(s) in the spec (versions checked: ${versions.join(', ') || 'none'})`,
    );
  }
  return issues.length === 0 ? 0 : 1;
}

function toFailure(issue: SpecIssue): { message: string; body: string } {
  return { message: issue.message, body: formatIssue(issue) };
}
