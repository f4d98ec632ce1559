/**
 * anchors.json: which page of which version holds each anchor. The page script reads it only
 * when the address names an anchor the page lacks: to go to the chapter that has it (a name
 * typed after `latest/#`), or to say in which versions the section exists.
 */
export interface VersionAnchors {
  slug: string;
  /** Anchor to page name. */
  anchors: Map<string, string>;
}

export function anchorsJson(versions: VersionAnchors[]): string {
  const pages: Record<string, string[]> = {};
  const ids: Record<string, number[]> = {};
  versions.forEach(({ slug, anchors }, v) => {
    const names = [...new Set(anchors.values())].sort();
    pages[slug] = names;
    for (const [id, page] of anchors) {
      ids[id] ??= versions.map(() => -1);
      (ids[id] as number[])[v] = names.indexOf(page);
    }
  });
  return JSON.stringify({ versions: versions.map((v) => v.slug), pages, ids });
}
