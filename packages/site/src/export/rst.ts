/**
 * A version of the spec as one reStructuredText document: what `vhost-user export --format rst`
 * prints and what the site offers next to each version's single page. Docutils builds it
 * without warnings, so Sphinx (QEMU's documentation) can include it unchanged.
 */
import { compareVersions, loadRepository, type SpecModel } from '@vhost-user/generator';
import type { Root } from 'hast';
import { historyFor } from '../history/history.js';
import { semanticDiff, type SpecDiff } from '../history/semantic-diff.js';
import { renderVersion, type RenderedChapter } from '../render-version.js';
import { RstWriter } from './hast-to-rst.js';

export class RstExportError extends Error {}

/** The document for already rendered chapters. */
export function chaptersToRst(title: string, chapters: RenderedChapter[]): string {
  const tops = new Map(chapters.map((c) => [c.info.page, c.info.toc[0]?.id]));
  const writer = new RstWriter({
    target: (href) => {
      const match = /^([a-z0-9-]+\.html)?(?:#(.+))?$/.exec(href);
      if (!match || (!match[1] && !match[2])) return undefined;
      if (match[2]) return decodeURIComponent(match[2]);
      return tops.get(match[1] as string);
    },
  });
  // The writer only reads the trees.
  const trees = chapters.map((c) => c.tree as Root);
  for (const tree of trees) writer.declare(tree);
  const rule = '#'.repeat(title.length + 2);
  const lines = [
    '.. Generated from the YAML tables and Markdown prose of the vhost-user spec repository; edit those, not this file.',
    '',
    rule,
    ` ${title}`,
    rule,
    '',
    ...trees.flatMap((tree) => writer.blocks(tree.children)),
  ];
  return `${lines
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trimEnd()}\n`;
}

/** The versions the repository at `root` holds: releases oldest first, then `draft`. */
function models(root: string): SpecModel[] {
  const { repo, issues } = loadRepository(root);
  const errors = issues.filter((i) => i.severity === 'error');
  if (!repo || errors.length > 0)
    throw new RstExportError(`the spec does not load (${errors.length} problem(s)); run vhost-user lint`);
  return [...repo.releases, repo.draft].sort((a, b) => compareVersions(a.meta.version, b.meta.version));
}

/** The versions `versionRst` accepts. */
export function exportableVersions(root: string): string[] {
  return models(root).map((m) => m.meta.version);
}

/** One version (`1.2`, or `draft`) of the spec at `root` as reStructuredText. */
export async function versionRst(root: string, version: string): Promise<string> {
  const all = models(root);
  const at = all.findIndex((m) => m.meta.version === version);
  if (at < 0)
    throw new RstExportError(
      `no version ${version} in spec/ (there are ${all.map((m) => m.meta.version).join(', ')}); pass one of them with --version`,
    );
  const diffs: SpecDiff[] = [];
  for (let i = 1; i <= at; i++) diffs.push(semanticDiff(all[i - 1] as SpecModel, all[i] as SpecModel));
  const model = all[at] as SpecModel;
  const rendered = await renderVersion(model, historyFor(all.slice(0, at + 1), diffs, version));
  const label = version === 'draft' ? 'working draft' : version;
  return chaptersToRst(`${model.meta.title} (${label})`, rendered.chapters);
}
