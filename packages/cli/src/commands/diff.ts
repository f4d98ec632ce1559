/** `vhost-user diff <from> <to>`: the semantic changelog between two versions. */
import { format, parse } from '../args.js';
import { compare } from '../compare.js';
import { UsageError } from '../errors.js';
import type { Io } from '../io.js';
import { diffJson, diffMarkdown, diffText } from '../output/diff.js';
import { style } from '../output/style.js';
import { locateSpec, resolveSource } from '../sources.js';

export const DIFF_HELP =
  'vhost-user diff <from> <to> [--format text|json|markdown]   (release, git ref, path, or draft)';

export function runDiff(argv: string[], io: Io): number {
  const { values, positionals } = parse(argv, { format: { type: 'string' } }, 'diff');
  const fmt = format(values.format, ['text', 'json', 'markdown'] as const, 'text', 'diff');
  if (positionals.length !== 2)
    throw new UsageError(`diff: expected two versions, e.g. vhost-user diff 1.1 1.2 (got ${positionals.length})`);
  const [fromSpec = '', toSpec = ''] = positionals;
  const { root, specDir } = locateSpec(values, io.cwd);
  const from = resolveSource(root, fromSpec, io.cwd, specDir);
  try {
    const to = resolveSource(root, toSpec, io.cwd, specDir);
    try {
      const cmp = compare(root, from, to);
      io.out(fmt === 'json' ? diffJson(cmp) : fmt === 'markdown' ? diffMarkdown(cmp) : diffText(cmp, style(io.colour)));
      return 0;
    } finally {
      to.dispose();
    }
  } finally {
    from.dispose();
  }
}
