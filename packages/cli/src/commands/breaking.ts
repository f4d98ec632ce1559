/** `vhost-user breaking --against <release|git-ref|path>`: exit 1 when an unapproved change breaks. */
import { BREAKING_RULES, formatLocation, unapprovedBreaks, type Change } from '@vhost-user/generator';
import { format, parse } from '../args.js';
import { compare, type Comparison } from '../compare.js';
import { configureBreaking, loadConfig, type Ignored } from '../config.js';
import { UsageError } from '../errors.js';
import type { Io } from '../io.js';
import { annotation } from '../output/annotations.js';
import { counts, diffJson } from '../output/diff.js';
import { junit } from '../output/junit.js';
import { style } from '../output/style.js';
import { locateSpec, resolveSource, workingSource } from '../sources.js';

export const BREAKING_HELP =
  'vhost-user breaking --against <release|git-ref|path> [--format text|json|github-actions|junit] [--path <file|folder|glob>]';

function line(c: Change): string {
  const where = c.loc ? `${formatLocation(c.loc)}: ` : '';
  return `${where}${c.rule} [${c.category}] ${c.name}: ${c.summary}`;
}

function render(
  cmp: Comparison,
  fmt: 'text' | 'json' | 'github-actions' | 'junit',
  io: Io,
  ignored: Ignored<Change>[],
): void {
  const breaking = cmp.diff.changes.filter((c) => c.breaking);
  const warnings = cmp.diff.changes.filter((c) => c.warning);
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
        {
          verdict: failing.length > 0 ? 'breaking' : 'ok',
          ...out,
          breaking,
          warnings,
          ignored: ignored.map((i) => ({ ...i.item, ignoredBy: { reason: i.by.reason, loc: i.by.loc } })),
          unusedApprovals: cmp.unused,
        },
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
    for (const c of warnings)
      io.out(annotation('warning', `${c.rule} (${c.category})`, `${c.name}: ${c.summary}`, c.loc));
    for (const i of ignored)
      io.out(
        annotation(
          'notice',
          `${i.item.rule ?? 'change'} (ignored)`,
          `${i.item.name}: ${i.item.summary} — ignored: ${i.by.reason}`,
          i.item.loc,
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
          // Warnings do not fail the suite; JUnit carries them as system-out of their rule.
          output: warnings.filter((c) => c.rule === r.id).map((c) => `warning ${line(c)}`),
        })),
      ),
    );
    return;
  }
  const s = style(io.colour);
  for (const c of breaking) {
    if (c.approved)
      io.out(
        `${s.yellow('approved')} ${line(c)}\n    reason: ${c.approved.reason}\n    acknowledged by: ${c.approved.acknowledgedBy.length > 0 ? c.approved.acknowledgedBy.join(', ') : 'nobody yet (pending; GOVERNANCE.md asks the implementations listed there)'}`,
      );
    else io.out(`${s.red('error')} ${line(c)}`);
  }
  for (const c of warnings) io.out(`${s.yellow('warning')} ${line(c)}`);
  for (const i of ignored)
    io.out(s.dim(`ignored ${line(i.item)}\n    by vhost-user.yaml ${formatLocation(i.by.loc)}: ${i.by.reason}`));
  for (const a of cmp.unused)
    io.out(
      `${s.yellow('warning')} ${formatLocation(a.loc)}: approval for ${a.rule} ${a.name} matches no change against ${cmp.fromLabel}`,
    );
  const warned = warnings.length > 0 ? ` (${warnings.length} warning(s) a person must review, listed above)` : '';
  const tail = `${n.total - n.breaking} non-breaking change(s)${warned}; see vhost-user diff ${cmp.fromLabel.split(' ')[0]} draft`;
  io.out(
    failing.length > 0
      ? s.red(`\n${verdict}; ${tail}`)
      : s.green(`${verdict}${n.approved > 0 ? ` (${n.approved} approved)` : ''}; ${tail}`),
  );
}

export function runBreaking(argv: string[], io: Io): number {
  const { values, positionals } = parse(
    argv,
    { against: { type: 'string' }, format: { type: 'string' }, path: { type: 'string' } },
    'breaking',
  );
  const fmt = format(values.format, ['text', 'json', 'github-actions', 'junit'] as const, 'text', 'breaking');
  if (typeof values.against !== 'string')
    throw new UsageError(
      'breaking: --against <release|git-ref|path> is required (e.g. --against 1.2 or --against origin/main)',
    );
  if (positionals.length > 0) throw new UsageError(`breaking: unexpected argument ${positionals[0]}`);
  const { root, specDir } = locateSpec(values, io.cwd);
  const from = resolveSource(root, values.against, io.cwd, specDir);
  try {
    const raw = compare(root, from, workingSource(root, specDir));
    const pathFilter = typeof values.path === 'string' ? values.path.replace(/^\.\//, '') : undefined;
    const { changes, ignored } = configureBreaking(loadConfig(root), raw.diff.changes, pathFilter);
    const cmp = { ...raw, diff: { ...raw.diff, changes } };
    render(cmp, fmt, io, ignored);
    return unapprovedBreaks(cmp.diff).length > 0 ? 1 : 0;
  } finally {
    from.dispose();
  }
}
