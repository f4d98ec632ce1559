/**
 * The search index of one version, built at build time: messages, feature bits, payloads and
 * sections. The page loads it with MiniSearch.loadJS using the same `fields` and `storeFields`.
 */
import type { Root } from 'hast';
import MiniSearch from 'minisearch';
import { visit } from 'unist-util-visit';
import type { TocEntry } from '../plugins/rehype-section-numbers.js';
import { bitMask, payloadAnchor } from '../render/common.js';
import { numberTokens } from './ranking.js';
import type { SpecView } from '../spec-view.js';

export interface SearchDocument {
  id: string;
  name: string;
  aliases: string;
  /** Ids, bit numbers and masks, in decimal and hex (see numberTokens). */
  numbers: string;
  text: string;
  kind: string;
  detail: string;
  /** Relative to the site root: `1.2/frontend-messages.html#VHOST_USER_SET_VRING_ADDR`. */
  url: string;
  /** How often the text links to the item: ranks the much-discussed above the rarely named. */
  mentions: number;
}

export const SEARCH_FIELDS = ['name', 'aliases', 'numbers', 'text'];
export const SEARCH_STORE = ['name', 'aliases', 'kind', 'detail', 'url', 'mentions'];

/**
 * Terms QEMU's text used before it renamed the two sides: a search for them finds the messages
 * each side sends.
 */
const FORMER_TERMS = { frontend: 'master', backend: 'slave' } as const;

export interface SearchInput {
  slug: string;
  spec: SpecView;
  sections: { page: string; entry: TocEntry }[];
  /** The page holding an anchor. */
  pageOf: (anchor: string) => string | undefined;
  /** How many links of the version's text point at an anchor. */
  mentionsOf?: (anchor: string) => number;
}

/** A bit's number and its mask. */
function bitNumbers(bit: number): string {
  return [...numberTokens(bit), ...numberTokens(1n << BigInt(bit)).slice(1)].join(' ');
}

export function searchDocuments({ slug, spec, sections, pageOf, mentionsOf }: SearchInput): SearchDocument[] {
  const docs: SearchDocument[] = [];
  const at = (anchor: string): string | undefined => {
    const page = pageOf(anchor);
    return page ? `${slug}/${page}#${encodeURIComponent(anchor)}` : undefined;
  };
  const push = (doc: Omit<SearchDocument, 'url' | 'mentions'>, anchor: string): void => {
    const url = at(anchor);
    if (url) docs.push({ ...doc, url, mentions: mentionsOf?.(anchor) ?? 0 });
  };
  for (const m of spec.messages) {
    const channel = m.channel === 'frontend' ? 'front-end request' : 'back-end request';
    push(
      {
        id: `message:${m.name}`,
        name: m.name,
        aliases: [...(m.aliases ?? []), FORMER_TERMS[m.channel]].join(' '),
        numbers: numberTokens(m.id).join(' '),
        text: m.summary,
        kind: 'message',
        detail: `${channel} ${m.id} (0x${m.id.toString(16)})`,
      },
      m.name,
    );
  }
  for (const b of spec.protocolFeatures) {
    push(
      {
        id: `feature:${b.name}`,
        name: b.name,
        aliases: (b.aliases ?? []).join(' '),
        numbers: bitNumbers(b.bit),
        text: b.summary,
        kind: 'protocol bit',
        detail: `bit ${b.bit}, mask ${bitMask(b.bit)}`,
      },
      b.name,
    );
  }
  for (const b of spec.virtioFeatures) {
    push(
      {
        id: `feature:${b.name}`,
        name: b.name,
        aliases: (b.aliases ?? []).join(' '),
        numbers: bitNumbers(b.bit),
        text: b.summary,
        kind: 'virtio bit',
        detail: `bit ${b.bit}, mask ${bitMask(b.bit)}`,
      },
      b.name,
    );
  }
  for (const p of spec.structs) {
    push(
      {
        id: `payload:${p.name}`,
        name: p.name,
        aliases: p.cName ?? '',
        numbers: '',
        text: `${p.title}. ${p.doc}`,
        kind: 'payload',
        detail: p.size === null ? 'variable size' : `${p.size} bytes`,
      },
      payloadAnchor(p.name),
    );
  }
  const named = new Set(docs.map((d) => d.name));
  for (const { page, entry } of sections) {
    if (named.has(entry.title)) continue;
    docs.push({
      id: `section:${entry.id}`,
      name: entry.title,
      aliases: '',
      numbers: '',
      text: '',
      kind: 'section',
      detail: `§ ${entry.number}`,
      url: `${slug}/${page}#${encodeURIComponent(entry.id)}`,
      mentions: mentionsOf?.(entry.id) ?? 0,
    });
  }
  return docs;
}

/** Counts the links to each anchor in a version's rendered chapters. */
export function mentionCounter(trees: Root[]): (anchor: string) => number {
  const counts = new Map<string, number>();
  for (const tree of trees)
    visit(tree, 'element', (node) => {
      const href = node.properties.href;
      if (node.tagName !== 'a' || typeof href !== 'string' || !href.includes('#')) return;
      const anchor = decodeURIComponent(href.slice(href.indexOf('#') + 1));
      counts.set(anchor, (counts.get(anchor) ?? 0) + 1);
    });
  return (anchor) => counts.get(anchor) ?? 0;
}

/** The serialized index and the options the page must load it with. */
export function searchIndexJson(docs: SearchDocument[]): string {
  const index = new MiniSearch<SearchDocument>({ fields: SEARCH_FIELDS, storeFields: SEARCH_STORE });
  index.addAll(docs);
  return JSON.stringify({ fields: SEARCH_FIELDS, storeFields: SEARCH_STORE, index: index.toJSON() });
}
