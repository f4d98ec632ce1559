/**
 * The text changes between two versions, chapter by chapter, as the reader sees the text:
 * paragraphs (line breaks inside a paragraph do not count), each changed one shown once with
 * the words taken out struck through and the words put in underlined, under the heading of the
 * section it is in. A change that adds, drops or moves a requirement keyword is called out as
 * normative.
 */
import type { ProseChapter } from '@vhost-user/generator';
import { diffArrays, diffWords } from 'diff';
import type { Element, ElementContent } from 'hast';
import { h } from 'hastscript';
import { basename } from 'node:path';

export interface ProseDiffLinks {
  /** Href of a chapter's page in the older and newer version. */
  from: (page: string) => string;
  to: (page: string) => string;
}

const KEYWORD = /\b(MUST|SHALL|SHOULD|MAY|REQUIRED|RECOMMENDED|OPTIONAL)\b/;

function pageOf(chapter: ProseChapter): string {
  return `${basename(chapter.file, '.md')}.html`;
}

/** Paragraphs with their whitespace collapsed: a reflowed paragraph is the same paragraph. */
export function paragraphs(markdown: string): string[] {
  return markdown
    .split(/\n\s*\n/)
    .map((block) => block.replace(/\s+/g, ' ').trim())
    .filter(Boolean);
}

/** A paragraph in words: Markdown heading marks and directive braces left out, `code` kept as code. */
function words(value: string): ElementContent[] {
  return value
    .replace(/^#{1,6} /, '')
    .split(/(`[^`]+`)/)
    .filter(Boolean)
    .map((part) =>
      part.startsWith('`') && part.endsWith('`') && part.length > 2
        ? h('code', part.slice(1, -1))
        : { type: 'text', value: part },
    );
}

interface Hunk {
  heading: string;
  before: string[];
  after: string[];
}

/** Changed runs of paragraphs, each with the heading above it in the newer text. */
export function changedParagraphs(before: string, after: string): Hunk[] {
  const hunks: Hunk[] = [];
  let heading = '';
  let open: Hunk | undefined;
  for (const part of diffArrays(paragraphs(before), paragraphs(after))) {
    if (!part.added && !part.removed) {
      open = undefined;
      const last = [...part.value].reverse().find((p) => /^#{1,6} /.test(p));
      if (last) heading = last.replace(/^#{1,6} /, '');
      continue;
    }
    if (!open) {
      open = { heading, before: [], after: [] };
      hunks.push(open);
    }
    (part.added ? open.after : open.before).push(...part.value);
  }
  return hunks;
}

function wordDiff(before: string, after: string): { nodes: ElementContent[]; normative: boolean } {
  const nodes: ElementContent[] = [];
  let normative = false;
  for (const part of diffWords(before, after)) {
    const content = words(part.value);
    if (part.added || part.removed) {
      if (KEYWORD.test(part.value)) normative = true;
      nodes.push(h(part.added ? 'ins' : 'del', content));
    } else nodes.push(...content);
  }
  return { nodes, normative };
}

function hunkBlock(hunk: Hunk): Element {
  const blocks: Element[] = [];
  let normative = false;
  const pairs = Math.min(hunk.before.length, hunk.after.length);
  for (let i = 0; i < pairs; i++) {
    const diff = wordDiff(hunk.before[i] as string, hunk.after[i] as string);
    normative ||= diff.normative;
    blocks.push(h('p', { className: ['para-changed'] }, diff.nodes));
  }
  for (const text of hunk.before.slice(pairs)) {
    normative ||= KEYWORD.test(text);
    blocks.push(
      h('p', { className: ['para-removed'] }, [
        h('span', { className: ['para-mark'] }, 'Removed: '),
        h('del', words(text)),
      ]),
    );
  }
  for (const text of hunk.after.slice(pairs)) {
    normative ||= KEYWORD.test(text);
    blocks.push(
      h('p', { className: ['para-added'] }, [
        h('span', { className: ['para-mark'] }, 'Added: '),
        h('ins', words(text)),
      ]),
    );
  }
  return h('div', { className: normative ? ['text-change', 'normative'] : ['text-change'] }, [
    h(
      'p',
      { className: ['text-change-where'] },
      [
        hunk.heading ? ['In ', h('q', hunk.heading)] : 'At the start of the chapter',
        normative ? [' ', h('strong', { className: ['normative-badge'] }, 'normative change')] : '',
      ].flat(),
    ),
    ...blocks,
  ]);
}

export function proseDiff(from: ProseChapter[], to: ProseChapter[], links: ProseDiffLinks): Element[] {
  const older = new Map(from.map((c) => [basename(c.file), c]));
  const newer = new Map(to.map((c) => [basename(c.file), c]));
  const out: Element[] = [];
  for (const [name, chapter] of newer) {
    const title = chapter.sections[0]?.title ?? name;
    const old = older.get(name);
    if (!old) {
      out.push(
        h('section', { className: ['prose-change', 'chapter-added'] }, [
          h('h3', ['New chapter: ', h('a', { href: links.to(pageOf(chapter)) }, title)]),
        ]),
      );
      continue;
    }
    const hunks = changedParagraphs(old.markdown, chapter.markdown);
    if (hunks.length === 0) continue;
    out.push(
      h('section', { className: ['prose-change'] }, [
        h('h3', ['Changed: ', h('a', { href: links.to(pageOf(chapter)) }, title)]),
        ...hunks.map(hunkBlock),
      ]),
    );
  }
  for (const [name, chapter] of older) {
    if (!newer.has(name)) {
      out.push(
        h('section', { className: ['prose-change', 'chapter-removed'] }, [
          h('h3', [
            'Removed chapter: ',
            h('a', { href: links.from(pageOf(chapter)) }, chapter.sections[0]?.title ?? name),
          ]),
        ]),
      );
    }
  }
  if (out.length === 0) out.push(h('p', 'The text did not change.'));
  return out;
}
