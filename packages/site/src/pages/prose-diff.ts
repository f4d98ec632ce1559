/** The text changes between two versions, chapter by chapter, as unified hunks. */
import type { ProseChapter } from '@vhost-user/generator';
import { structuredPatch } from 'diff';
import type { Element } from 'hast';
import { h } from 'hastscript';
import { basename } from 'node:path';

export interface ProseDiffLinks {
  /** Href of a chapter's page in the older and newer version. */
  from: (page: string) => string;
  to: (page: string) => string;
}

function pageOf(chapter: ProseChapter): string {
  return `${basename(chapter.file, '.md')}.html`;
}

function hunks(before: string, after: string): Element[] {
  const patch = structuredPatch('before', 'after', before, after, undefined, undefined, { context: 2 });
  return patch.hunks.map((hunk) =>
    h('pre', { className: ['hunk'] }, [
      h(
        'span',
        { className: ['hunk-head'] },
        `lines ${hunk.oldStart}–${hunk.oldStart + hunk.oldLines - 1} → ${hunk.newStart}–${hunk.newStart + hunk.newLines - 1}\n`,
      ),
      ...hunk.lines.map((line) => {
        const kind = line.startsWith('+') ? 'add' : line.startsWith('-') ? 'del' : 'ctx';
        return h('span', { className: ['line', `line-${kind}`] }, `${line}\n`);
      }),
    ]),
  );
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
    if (old.markdown === chapter.markdown) continue;
    out.push(
      h('section', { className: ['prose-change'] }, [
        h('h3', [
          'Changed: ',
          h('a', { href: links.to(pageOf(chapter)) }, title),
          ' ',
          h('span', { className: ['note'] }, `(prose/${name})`),
        ]),
        ...hunks(old.markdown, chapter.markdown),
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
