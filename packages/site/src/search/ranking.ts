/**
 * How a query is run against a version's search index, shared by the page's search code and the
 * tests: a number (`44`, `0x2c`, a mask such as `0x00400000`) looks up ids, bit numbers and
 * masks; any other query searches names, former names and text. Exact names rank first.
 */
import type MiniSearch from 'minisearch';
import type { SearchResult } from 'minisearch';

export const SEARCH_OPTIONS = { prefix: true, fuzzy: 0.15, boost: { name: 4, aliases: 2, numbers: 3 } };

/** Prefixes a reader may leave out when typing a name. */
const NAME_PREFIXES = ['vhost_user_protocol_f_', 'vhost_user_backend_', 'vhost_user_', 'virtio_f_', 'vhost_f_'];

/** The number tokens of an id or bit: decimal and unpadded lowercase hex (`44 0x2c`). */
export function numberTokens(value: number | bigint): string[] {
  return [String(value), `0x${value.toString(16)}`];
}

/** `0x0040_0000`, `0X400000` and `4194304` read as the same token; undefined when not a number. */
export function numberQuery(query: string): string | undefined {
  const q = query.trim().toLowerCase().replace(/_/g, '');
  if (/^0x[0-9a-f]+$/.test(q)) return `0x${BigInt(q).toString(16)}`;
  if (/^[0-9]+$/.test(q)) return String(BigInt(q));
  return undefined;
}

function bare(name: string): string {
  const lower = name.toLowerCase();
  const prefix = NAME_PREFIXES.find((p) => lower.startsWith(p));
  return prefix ? lower.slice(prefix.length) : lower;
}

/** 0: the whole name (or a former name) is the query; 1: the name ends with it; 2: the rest. */
function tier(result: SearchResult, query: string): number {
  const q = query.trim().toLowerCase().replace(/\s+/g, '_');
  const names = [String(result.name), ...String(result.aliases ?? '').split(' ')].filter(Boolean);
  if (names.some((n) => n.toLowerCase() === q || bare(n) === q)) return 0;
  if (names.some((n) => n.toLowerCase().endsWith(`_${q}`) || bare(n).endsWith(q))) return 1;
  return 2;
}

/** The results for `query`, best first. */
export function rankExactFirst(index: MiniSearch, query: string): SearchResult[] {
  const number = numberQuery(query);
  let results: SearchResult[] = [];
  if (number !== undefined) results = index.search(number, { fields: ['numbers'], prefix: false, fuzzy: false });
  if (results.length === 0) results = index.search(query, { ...SEARCH_OPTIONS, combineWith: 'AND' });
  if (results.length === 0) results = index.search(query, SEARCH_OPTIONS);
  const tiers = new Map(results.map((r) => [r, tier(r, query)]));
  // Among names that match, the one the text links to most comes first (SET_VRING_KICK before
  // the in-band VRING_KICK for "kick"); the rest by MiniSearch's score.
  const mentions = (r: SearchResult): number => Number(r.mentions ?? 0);
  return [...results].sort((a, b) => {
    const ta = tiers.get(a) as number;
    const tb = tiers.get(b) as number;
    if (ta !== tb) return ta - tb;
    return (ta < 2 ? mentions(b) - mentions(a) : 0) || b.score - a.score;
  });
}
