/** `vhost-user lint`: the spec checks (loader and lint rules), with file:line:column. */
import {
  checkRepository,
  formatIssue,
  formatLocation,
  LOADER_RULES,
  RULES,
  allVersions,
  type SpecIssue,
} from '@vhost-user/generator';
import { format, parse } from '../args.js';
import { configureLint, loadConfig, type Ignored } from '../config.js';
import type { Io } from '../io.js';
import { annotation } from '../output/annotations.js';
import { junit } from '../output/junit.js';
import { style } from '../output/style.js';
import { locateSpec } from '../sources.js';

export const LINT_HELP =
  'vhost-user lint [--spec <dir>] [--format text|json|github-actions|junit] [--path <file|folder|glob>]   run the spec checks (vhost-user.yaml selects rules)';

function ignoredLine(i: Ignored<SpecIssue>): string {
  return `ignored ${formatIssue(i.item)}\n    by vhost-user.yaml ${formatLocation(i.by.loc)}: ${i.by.reason}`;
}

export function runLint(argv: string[], io: Io): number {
  const { values } = parse(argv, { format: { type: 'string' }, path: { type: 'string' } }, 'lint');
  const fmt = format(values.format, ['text', 'json', 'github-actions', 'junit'] as const, 'text', 'lint');
  const { root, specDir } = locateSpec(values, io.cwd);
  const config = loadConfig(root);
  const pathFilter = typeof values.path === 'string' ? values.path.replace(/^\.\//, '') : undefined;
  const checked = checkRepository(root, specDir);
  const { issues, ignored, skippedRules } = configureLint(config, checked.issues, pathFilter);
  const errors = issues.filter((i) => i.severity === 'error');
  const warnings = issues.filter((i) => i.severity === 'warning');
  const versions = checked.repo ? allVersions(checked.repo).map((m) => m.meta.version) : [];
  const scope = [
    `versions checked: ${versions.join(', ') || 'none'}`,
    ...(pathFilter ? [`only ${pathFilter}`] : []),
    ...(skippedRules.length > 0 ? [`rules not run (${config.file}): ${skippedRules.join(', ')}`] : []),
  ].join('; ');
  if (fmt === 'json') {
    io.out(
      JSON.stringify(
        {
          root,
          versions,
          clean: errors.length === 0,
          config: config.file ?? null,
          path: pathFilter ?? null,
          skippedRules,
          issues,
          ignored: ignored.map((i) => ({ ...i.item, ignoredBy: { reason: i.by.reason, loc: i.by.loc } })),
        },
        null,
        2,
      ),
    );
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
    for (const i of ignored)
      io.out(
        annotation(
          'notice',
          `spec lint: ${i.item.rule} (ignored)`,
          `${i.item.message} — ignored: ${i.by.reason}`,
          i.item.loc,
        ),
      );
    io.out(summary(errors.length, warnings.length, ignored.length, scope));
  } else if (fmt === 'junit') {
    const rules = [...LOADER_RULES, ...RULES];
    io.out(
      junit(
        'vhost-user lint',
        rules.map((r) => ({
          name: r.id,
          classname: 'spec.lint',
          failures: errors.filter((i) => i.rule === r.id).map(toFailure),
        })),
      ),
    );
  } else {
    const s = style(io.colour);
    for (const issue of issues)
      io.out(issue.severity === 'error' ? s.red(formatIssue(issue)) : s.yellow(formatIssue(issue)));
    for (const i of ignored) io.out(s.dim(ignoredLine(i)));
    const line = summary(errors.length, warnings.length, ignored.length, scope);
    io.out(errors.length === 0 && warnings.length === 0 ? s.green(line) : `\n${line}`);
  }
  return errors.length === 0 ? 0 : 1;
}

function summary(errors: number, warnings: number, ignored: number, scope: string): string {
  const head =
    errors === 0 && warnings === 0
      ? 'spec lint clean'
      : `${errors} error(s) and ${warnings} warning(s) in the spec${errors === 0 ? ' (warnings do not fail lint)' : ''}`;
  return `${head}${ignored > 0 ? `, ${ignored} finding(s) ignored by vhost-user.yaml (listed above)` : ''} (${scope})`;
}

function toFailure(issue: SpecIssue): { message: string; body: string } {
  return { message: issue.message, body: formatIssue(issue) };
}
