/**
 * The search index of one version, built at build time: messages, feature bits, payloads and
 * sections. The page loads it with MiniSearch.loadJS using the same `fields` and `storeFields`.
 */
import MiniSearch from 'minisearch';
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
}

export const SEARCH_FIELDS = ['name', 'aliases', 'numbers', 'text'];
export const SEARCH_STORE = ['name', 'aliases', 'kind', 'detail', 'url'];

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
}

/** A bit's number and its mask. */
function bitNumbers(bit: number): string {
  return [...numberTokens(bit), ...numberTokens(1n << BigInt(bit)).slice(1)].join(' ');
}

export function searchDocuments({ slug, spec, sections, pageOf }: SearchInput): SearchDocument[] {
  const docs: SearchDocument[] = [];
  const at = (anchor: string): string | undefined => {
    const page = pageOf(anchor);
    return page ? `${slug}/${page}#${encodeURIComponent(anchor)}` : undefined;
  };
  const push = (doc: Omit<SearchDocument, 'url'>, anchor: string): void => {
    const url = at(anchor);
    if (url) docs.push({ ...doc, url });
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
    });
  }
  return docs;
}

/** The serialized index and the options the page must load it with. */
export function searchIndexJson(docs: SearchDocument[]): string {
  const index = new MiniSearch<SearchDocument>({ fields: SEARCH_FIELDS, storeFields: SEARCH_STORE });
  index.addAll(docs);
  return JSON.stringify({ fields: SEARCH_FIELDS, storeFields: SEARCH_STORE, index: index.toJSON() });
}
