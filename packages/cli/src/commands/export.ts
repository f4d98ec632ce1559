/** `vhost-user export --format rst`: one version of the spec as a reStructuredText document. */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { format, parse } from '../args.js';
import { UsageError } from '../errors.js';
import type { Io } from '../io.js';
import { findRoot } from '../sources.js';

export const EXPORT_HELP =
  'vhost-user export --format rst [--version <release>|draft] [--out <file>]   the spec as reStructuredText (for Sphinx)';

export async function runExport(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(
    argv,
    { format: { type: 'string' }, version: { type: 'string' }, out: { type: 'string' } },
    'export',
  );
  if (values.format === undefined) throw new UsageError('say which format with --format rst');
  format(values.format, ['rst'] as const, 'rst', 'export');
  if (positionals.length > 0) throw new UsageError(`unexpected argument ${positionals[0]}; use --version`);
  const root = findRoot(typeof values.root === 'string' ? values.root : io.cwd);
  // The renderer is the site's (an optional peer: the site is not published, so this command
  // runs in a checkout of the spec repository); loaded only for this command.
  let site: typeof import('@vhost-user/site/rst');
  try {
    site = await import('@vhost-user/site/rst');
  } catch (error) {
    throw new UsageError(
      `export needs the site renderer (@vhost-user/site), which is part of the spec repository; run it there after npm ci (${(error as Error).message})`,
    );
  }
  const { versionRst, RstExportError } = site;
  const version = typeof values.version === 'string' ? values.version : 'draft';
  let text: string;
  try {
    text = await versionRst(root, version);
  } catch (error) {
    if (error instanceof RstExportError) throw new UsageError(`${error.message}`);
    throw error;
  }
  if (typeof values.out === 'string') {
    const target = resolve(io.cwd, values.out);
    writeFileSync(target, text);
    io.err(`export: wrote ${version} as reStructuredText to ${target}`);
  } else io.out(text);
  return 0;
}
