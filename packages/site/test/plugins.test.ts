/**
 * Fixture pairs for each unified plugin: test/fixtures/<plugin>/<case>.md is the input (with an
 * optional <case>.yaml giving the spec slice and options), <case>.html the expected fragment.
 * Each plugin runs alone between the Markdown parser and the HTML serializer.
 * UPDATE_FIXTURES=1 rewrites the .html files (review the diff before committing them).
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import rehypeStringify from 'rehype-stringify';
import remarkDirective from 'remark-directive';
import remarkGfm from 'remark-gfm';
import remarkParse from 'remark-parse';
import remarkRehype from 'remark-rehype';
import { unified, type PluggableList } from 'unified';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import rehypeBreakConstants from '../src/plugins/rehype-break-constants.js';
import rehypeFormerNames from '../src/plugins/rehype-former-names.js';
import rehypeHeadingAnchors from '../src/plugins/rehype-heading-anchors.js';
import rehypeLinkMentions from '../src/plugins/rehype-link-mentions.js';
import rehypeResolveLinks from '../src/plugins/rehype-resolve-links.js';
import rehypeRfc2119 from '../src/plugins/rehype-rfc2119.js';
import rehypeSectionNumbers from '../src/plugins/rehype-section-numbers.js';
import remarkRestoreDirectives from '../src/plugins/remark-restore-directives.js';
import remarkSpecMarkers, { MARKER_NAMES } from '../src/plugins/remark-spec-markers.js';
import type { HistoryEntry } from '../src/render/history.js';
import { linkTargets } from '../src/spec-view.js';
import { specFromFixture } from './spec-fixture.js';

const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));

interface Fixture {
  spec?: unknown;
  options?: Record<string, unknown>;
  history?: Record<string, HistoryEntry[]>;
}

/** Where the plugin sits: before (remark) or after (rehype) the Markdown-to-HTML step. */
const PLUGINS: Record<string, (fixture: Fixture) => { remark: PluggableList; rehype: PluggableList }> = {
  'remark-restore-directives': () => ({ remark: [[remarkRestoreDirectives, { markers: MARKER_NAMES }]], rehype: [] }),
  'remark-spec-markers': (f) => ({
    remark: [
      [
        remarkSpecMarkers,
        { spec: specFromFixture(f.spec), history: (_: string, name: string) => f.history?.[name] ?? [] },
      ],
    ],
    rehype: [],
  }),
  'rehype-heading-anchors': () => ({ remark: [], rehype: [rehypeHeadingAnchors] }),
  'rehype-former-names': (f) => ({
    remark: [],
    rehype: [
      rehypeHeadingAnchors,
      [
        rehypeFormerNames,
        { formerNames: new Map(Object.entries((f.options?.formerNames ?? {}) as Record<string, string[]>)) },
      ],
    ],
  }),
  'rehype-section-numbers': (f) => ({
    remark: [],
    rehype: [[rehypeSectionNumbers, { chapter: Number(f.options?.chapter ?? 1) }]],
  }),
  'rehype-rfc2119': () => ({ remark: [], rehype: [rehypeRfc2119] }),
  'rehype-link-mentions': (f) => ({
    remark: [],
    rehype: [[rehypeLinkMentions, { targets: linkTargets(specFromFixture(f.spec)) }]],
  }),
  'rehype-resolve-links': (f) => {
    const anchors = (f.options?.anchors ?? {}) as Record<string, string>;
    return {
      remark: [],
      rehype: [
        [rehypeResolveLinks, { pageOf: (a: string) => anchors[a], page: String(f.options?.page ?? 'index.html') }],
      ],
    };
  },
  'rehype-break-constants': () => ({ remark: [], rehype: [rehypeBreakConstants] }),
};

async function render(
  plugin: string,
  markdown: string,
  fixture: Fixture,
): Promise<{ html: string; messages: string[] }> {
  const { remark, rehype } = (PLUGINS[plugin] as (f: Fixture) => { remark: PluggableList; rehype: PluggableList })(
    fixture,
  );
  const file = await unified()
    .use(remarkParse)
    .use(remarkGfm)
    .use(remarkDirective)
    .use(remark)
    .use(remarkRehype)
    .use(rehype)
    .use(rehypeStringify)
    .process(markdown);
  return { html: `${String(file).trim()}\n`, messages: file.messages.map((m) => m.reason) };
}

describe('plugin fixtures', () => {
  it('every plugin has a fixture folder, and every folder a plugin', () => {
    expect(readdirSync(FIXTURES).sort()).toEqual(Object.keys(PLUGINS).sort());
  });

  for (const plugin of Object.keys(PLUGINS)) {
    const dir = join(FIXTURES, plugin);
    const cases = existsSync(dir)
      ? readdirSync(dir)
          .filter((n) => n.endsWith('.md'))
          .map((n) => n.slice(0, -3))
      : [];
    describe(plugin, () => {
      it('has at least one case', () => expect(cases.length).toBeGreaterThan(0));
      for (const name of cases) {
        it(name, async () => {
          const yamlPath = join(dir, `${name}.yaml`);
          const fixture: Fixture = existsSync(yamlPath) ? (parseYaml(readFileSync(yamlPath, 'utf8')) as Fixture) : {};
          const { html, messages } = await render(plugin, readFileSync(join(dir, `${name}.md`), 'utf8'), fixture);
          const expectedPath = join(dir, `${name}.html`);
          if (process.env.UPDATE_FIXTURES === '1') writeFileSync(expectedPath, html);
          expect(html).toBe(readFileSync(expectedPath, 'utf8'));
          const expectedMessages = (fixture.options?.messages ?? []) as string[];
          expect(messages).toEqual(expectedMessages);
        });
      }
    });
  }
});
