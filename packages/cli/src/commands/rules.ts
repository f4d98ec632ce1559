/** `vhost-user rules [--lint] [--format text|json]`: the catalogue of breaking or lint rules. */
import { BREAKING_RULES, LOADER_RULES, RULES } from '@vhost-user/generator';
import { format, parse } from '../args.js';
import { loadConfig, selects } from '../config.js';
import type { Io } from '../io.js';
import { findRoot } from '../sources.js';

export const RULES_HELP =
  'vhost-user rules [--lint] [--format text|json]   list the breaking-change rules (or the lint rules), and whether vhost-user.yaml selects each';

/** Lint rules whose findings are warnings unless vhost-user.yaml lists them under lint.error. */
const WARNING_LINT_RULES = new Set(['draft-heading']);

export function runRules(argv: string[], io: Io): number {
  const { values } = parse(argv, { lint: { type: 'boolean' }, format: { type: 'string' } }, 'rules');
  const fmt = format(values.format, ['text', 'json'] as const, 'text', 'rules');
  let config;
  try {
    config = loadConfig(findRoot(typeof values.root === 'string' ? values.root : io.cwd));
  } catch {
    config = undefined; // outside a spec repository the catalogue is still useful
  }
  if (values.lint) {
    const loader = new Set(LOADER_RULES.map((r) => r.id));
    const rows = [...LOADER_RULES, ...RULES].map((r) => ({
      id: r.id,
      kind: loader.has(r.id) ? 'loader' : 'lint',
      level: WARNING_LINT_RULES.has(r.id) ? 'warning' : 'error',
      selected: loader.has(r.id) || !config || selects(config.lint, r.id),
      description: r.description,
    }));
    if (fmt === 'json') io.out(JSON.stringify({ config: config?.file ?? null, rules: rows }, null, 2));
    else
      for (const r of rows)
        io.out(
          `${r.id.padEnd(22)} ${r.kind.padEnd(7)} ${r.level.padEnd(8)} ${r.selected ? '' : '(off) '}${r.description}`,
        );
    return 0;
  }
  const rows = BREAKING_RULES.map((r) => ({
    id: r.id,
    category: r.category,
    level: r.level,
    selected: !config || selects(config.breaking, r.id, r.category),
    description: r.description,
  }));
  if (fmt === 'json') io.out(JSON.stringify({ config: config?.file ?? null, rules: rows }, null, 2));
  else
    for (const r of rows)
      io.out(
        `${r.id.padEnd(28)} ${r.category.padEnd(8)} ${r.level.padEnd(8)} ${r.selected ? '' : '(off) '}${r.description}`,
      );
  return 0;
}
