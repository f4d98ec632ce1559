/** `vhost-user breaking --against <release|git-ref|path>`: exit 1 when an unapproved change breaks. */
import { BREAKING_RULES, formatLocation, unapprovedBreaks, type Change } from '@vhost-user/generator';
import { format, parse } from '../args.js';
import { compare, type Comparison } from '../compare.js';
import { UsageError } from '../errors.js';
import type { Io } from '../io.js';
import { annotation } from '../output/annotations.js';
import { counts, diffJson } from '../output/diff.js';
import { junit } from '../output/junit.js';
import { style } from '../output/style.js';
import { locateSpec, resolveSource, workingSource } from '../sources.js';

export const BREAKING_HELP =
  'vhost-user breaking --against <release|git-ref|path> [--format text|json|github-actions|junit]';

function line(c: Change): string {
  const where = c.loc ? `${formatLocation(c.loc)}: ` : '';
  return `${where}${c.rule} [${c.category}] ${c.name}: ${c.summary}`;
}

function render(cmp: Comparison, fmt: 'text' | 'json' | 'github-actions' | 'junit', io: Io): void {
  const breaking = cmp.diff.changes.filter((c) => c.breaking);
  const n = counts(cmp.diff.changes);
  const failing = unapprovedBreaks(cmp.diff);
  const verdict =
    failing.length > 0
      ? `${failing.length} breaking change(s) against ${cmp.fromLabel}`
      : `no unapproved breaking changes against ${cmp.fromLabel}`;
  if (fmt === 'json') {
    const out = JSON.parse(diffJson(cmp)) as Record<string, unknown>;
    io.out(
      JSON.stringify(
        { verdict: failing.length > 0 ? 'breaking' : 'ok', ...out, breaking, unusedApprovals: cmp.unused },
        null,
        2,
      ),
    );
    return;
  }
  if (fmt === 'github-actions') {
    for (const c of breaking)
      io.out(
        annotation(
          c.approved ? 'notice' : 'error',
          `${c.approved ? 'approved ' : ''}${c.rule} (${c.category})`,
          `${c.name}: ${c.summary}${c.approved ? ` — approved: ${c.approved.reason}` : ''}`,
          c.loc,
        ),
      );
    for (const a of cmp.unused)
      io.out(
        annotation(
          'warning',
          'unused approval',
          `approval for ${a.rule} ${a.name} matches no change against ${cmp.fromLabel}`,
          a.loc,
        ),
      );
    io.out(`${verdict} (${n.total} change(s) in all)`);
    return;
  }
  if (fmt === 'junit') {
    io.out(
      junit(
        `vhost-user breaking against ${cmp.fromLabel}`,
        BREAKING_RULES.map((r) => ({
          name: r.id,
          classname: `breaking.${r.category}`,
          failures: failing
            .filter((c) => c.rule === r.id)
            .map((c) => ({ message: `${c.name}: ${c.summary}`, body: line(c) })),
        })),
      ),
    );
    return;
  }
  const s = style(io.colour);
  for (const c of breaking) {
    if (c.approved) io.out(`${s.yellow('approved')} ${line(c)}\n    reason: ${c.approved.reason}`);
    else io.out(`${s.red('error')} ${line(c)}`);
  }
  for (const a of cmp.unused)
    io.out(
      `${s.yellow('warning')} ${formatLocation(a.loc)}: approval for ${a.rule} ${a.name} matches no change against ${cmp.fromLabel}`,
    );
  const tail = `${n.total - n.breaking} non-breaking change(s); see vhost-user diff ${cmp.fromLabel.split(' ')[0]} draft`;
  io.out(
    failing.length > 0
      ? s.red(`\n${verdict}; ${tail}`)
      : s.green(`${verdict}${n.approved > 0 ? ` (${n.approved} approved)` : ''}; ${tail}`),
  );
}

export function runBreaking(argv: string[], io: Io): number {
  const { values, positionals } = parse(argv, { against: { type: 'string' }, format: { type: 'string' } }, 'breaking');
  const fmt = format(values.format, ['text', 'json', 'github-actions', 'junit'] as const, 'text', 'breaking');
  if (typeof values.against !== 'string')
    throw new UsageError(
      'breaking: --against <release|git-ref|path> is required (e.g. --against 1.2 or --against origin/main)',
    );
  if (positionals.length > 0) throw new UsageError(`breaking: unexpected argument ${positionals[0]}`);
  const { root, specDir } = locateSpec(values, io.cwd);
  const from = resolveSource(root, values.against, io.cwd, specDir);
  try {
    const cmp = compare(root, from, workingSource(root, specDir));
    render(cmp, fmt, io);
    return unapprovedBreaks(cmp.diff).length > 0 ? 1 : 0;
  } finally {
    from.dispose();
  }
}
