/**
 * Renders the chapters of one version through the plugin pipeline. Two passes: the first
 * expands markers, numbers sections and links mentions, collecting every id on every page; the
 * second points `#anchor` links at the page that holds the anchor.
 */
import type { ProseChapter, SpecModel } from '@vhost-user/generator';
import type { Root as HastRoot } from 'hast';
import type { Root as MdastRoot } from 'mdast';
import { basename } from 'node:path';
import remarkRehype from 'remark-rehype';
import { unified } from 'unified';
import { visit } from 'unist-util-visit';
import type { VFile } from 'vfile';
import rehypeBreakConstants from './plugins/rehype-break-constants.js';
import rehypeFormerNames from './plugins/rehype-former-names.js';
import rehypeHeadingAnchors from './plugins/rehype-heading-anchors.js';
import rehypeLinkMentions from './plugins/rehype-link-mentions.js';
import rehypeResolveLinks from './plugins/rehype-resolve-links.js';
import rehypeRfc2119 from './plugins/rehype-rfc2119.js';
import rehypeSectionNumbers from './plugins/rehype-section-numbers.js';
import remarkRestoreDirectives from './plugins/remark-restore-directives.js';
import remarkSpecMarkers, { MARKER_NAMES } from './plugins/remark-spec-markers.js';
import type { HistoryLookup } from './render/history.js';
import { linkTargets, viewOf, type SpecView } from './spec-view.js';
import type { ChapterInfo } from './pages/site-types.js';

export interface RenderedChapter {
  info: ChapterInfo;
  tree: HastRoot;
}

export interface RenderedVersion {
  spec: SpecView;
  chapters: RenderedChapter[];
  /** Every id of every page, mapped to its page. */
  anchors: Map<string, string>;
  /** Problems found while rendering, as `file:line:column: message`. */
  warnings: string[];
}

export function chapterPage(chapter: ProseChapter): string {
  return `${basename(chapter.file, '.md')}.html`;
}

/** Structs and enums that some marker of the version shows, so links to them resolve. */
function linkableOf(model: SpecModel): { structs: Set<string>; enums: Set<string> } {
  const structs = new Set<string>();
  const enums = new Set<string>();
  for (const chapter of model.prose) {
    for (const marker of chapter.markers) {
      if (marker.kind === 'payload' && marker.attributes.name) structs.add(marker.attributes.name);
      if (marker.kind === 'enum' && marker.attributes.name) enums.add(marker.attributes.name);
      if (marker.kind === 'ring') {
        const ring = marker.attributes.layout === 'packed' ? model.rings.packed : model.rings.split;
        for (const s of ring.structs) structs.add(s.name);
      }
    }
  }
  return { structs, enums };
}

function warningsOf(file: VFile): string[] {
  return file.messages.map((m) => `${file.path}:${m.line ?? 1}:${m.column ?? 1}: ${m.reason}`);
}

/** Runs a processor's transformers on a tree; returns the result and the file with its messages. */
function runOn(
  processor: {
    run(
      tree: never,
      file: { value?: string; path: string },
      done: (error: Error | undefined, tree: unknown, file: VFile | undefined) => void,
    ): void;
  },
  tree: unknown,
  file: { value?: string; path: string },
): Promise<{ tree: HastRoot; file: VFile }> {
  return new Promise((resolve, reject) => {
    processor.run(tree as never, file, (error, result, done) => {
      if (error || !done) reject(error ?? new Error(`no file from the pipeline for ${file.path}`));
      else resolve({ tree: result as HastRoot, file: done });
    });
  });
}

/** Renders every chapter; `model`'s Markdown trees are transformed in place. */
export async function renderVersion(model: SpecModel, history: HistoryLookup): Promise<RenderedVersion> {
  const spec = viewOf(model);
  const claims = new Set<string>();
  const targets = linkTargets(spec);
  const linkable = linkableOf(model);
  const anchors = new Map<string, string>();
  const warnings: string[] = [];
  const chapters: RenderedChapter[] = [];
  const formerNames = new Map(
    [...spec.messages, ...spec.protocolFeatures, ...spec.virtioFeatures]
      .filter((item) => item.aliases?.length)
      .map((item) => [item.name, item.aliases as string[]]),
  );

  for (const [index, chapter] of model.prose.entries()) {
    const page = chapterPage(chapter);
    const processor = unified()
      .use(remarkRestoreDirectives, { markers: MARKER_NAMES })
      .use(remarkSpecMarkers, { spec, claims, history, linkable })
      .use(remarkRehype)
      .use(rehypeHeadingAnchors)
      .use(rehypeFormerNames, { formerNames })
      .use(rehypeSectionNumbers, { chapter: index + 1 })
      .use(rehypeRfc2119)
      .use(rehypeLinkMentions, { targets })
      .use(rehypeBreakConstants);
    const { tree, file } = await runOn(processor, chapter.tree as MdastRoot, {
      value: chapter.markdown,
      path: chapter.displayPath,
    });
    warnings.push(...warningsOf(file));
    visit(tree, 'element', (node) => {
      const id = node.properties.id;
      if (typeof id !== 'string') return;
      const other = anchors.get(id);
      if (other !== undefined) warnings.push(`${chapter.displayPath}: id #${id} is also on ${other}`);
      else anchors.set(id, page);
    });
    const toc = file.data.toc ?? [];
    chapters.push({ info: { page, number: index + 1, title: toc[0]?.title ?? page, toc }, tree });
  }

  for (const chapter of chapters) {
    const processor = unified().use(rehypeResolveLinks, {
      pageOf: (anchor) => anchors.get(anchor),
      page: chapter.info.page,
    });
    const { tree, file } = await runOn(processor, chapter.tree, { path: `${spec.version}/${chapter.info.page}` });
    chapter.tree = tree as HastRoot;
    warnings.push(...warningsOf(file));
  }
  return { spec, chapters, anchors, warnings };
}
