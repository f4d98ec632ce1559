/**
 * Builds the whole site into one folder: every version at its own path (`latest/` for the
 * draft, `1.2/`, ...), a diff page between consecutive versions, search indexes and assets.
 * All links are relative, so the folder can be served from any path.
 */
import { compareVersions, loadRepository, type SpecModel } from '@vhost-user/generator';
import type { ElementContent, Root } from 'hast';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { historyFor } from './history/history.js';
import { semanticDiff, type SpecDiff } from './history/semantic-diff.js';
import { diffPageMain } from './pages/diff-page.js';
import { diffIndexMain, homeMain, notFoundMain } from './pages/home.js';
import { MATRIX_PATH, implementationsMain, loadMatrix } from './pages/implementations.js';
import { renderPage } from './pages/layout.js';
import { breakConstantsIn } from './plugins/rehype-break-constants.js';
import type { DiffInfo, SiteInfo, VersionInfo } from './pages/site-types.js';
import { versionIndexMain } from './pages/version-index.js';
import { renderVersion, type RenderedVersion } from './render-version.js';
import { mentionCounter, searchDocuments, searchIndexJson } from './search/build-index.js';
import { anchorsJson } from './pages/anchors-json.js';
import { bundleClient } from './client/bundle.js';
import { draftSourceProblems, garbledGeneratedText, historyGaps } from './check/content.js';
import { chaptersToRst } from './export/rst.js';
import { numbersMain } from './pages/numbers.js';
import { singlePageMain } from './pages/single-page.js';

export class SiteBuildError extends Error {}

export interface BuildOptions {
  /** The repository root (holds spec/). */
  root: string;
  outDir: string;
  /** The conformance matrix to render on implementations.html (default: <root>/test/conformance/results/matrix.json). */
  matrixPath?: string;
  /** Called with one line per step. */
  progress?: (line: string) => void;
}

export interface BuildResult {
  outDir: string;
  files: number;
  versions: string[];
  warnings: string[];
  /** Milliseconds per step, and in total. */
  timings: Record<string, number>;
}

const ASSETS = fileURLToPath(new URL('./assets/', import.meta.url));
/** Pages every version has besides its chapters. */
const EXTRA_PAGES = ['all.html', 'numbers.html'];

function versionInfo(model: SpecModel): VersionInfo {
  const draft = model.meta.version === 'draft';
  return {
    slug: draft ? 'latest' : model.meta.version,
    version: model.meta.version,
    label: draft ? 'latest (draft)' : model.meta.version,
    summary: model.meta.release.summary,
    corresponds: model.meta.release.corresponds,
    date: model.meta.release.date,
  };
}

/** Lets long constant names in the tables of a page built outside the chapter pipeline break after an underscore. */
function withConstantBreaks(main: ElementContent[]): ElementContent[] {
  breakConstantsIn({ type: 'root', children: main } as Root);
  return main;
}

export async function buildSite(options: BuildOptions): Promise<BuildResult> {
  const progress = options.progress ?? (() => {});
  const timings: Record<string, number> = {};
  const started = performance.now();
  let mark = started;
  const step = (name: string): void => {
    const now = performance.now();
    timings[name] = Math.round(now - mark);
    mark = now;
  };

  progress('loading spec/ and every release');
  const { repo, issues } = loadRepository(options.root);
  const errors = issues.filter((i) => i.severity === 'error');
  if (!repo || errors.length > 0) {
    const lines = errors.slice(0, 10).map((i) => `${i.loc.file}:${i.loc.line}:${i.loc.column}: ${i.message}`);
    throw new SiteBuildError(
      `the spec does not load (${errors.length} problem(s)); run npm run lint\n${lines.join('\n')}`,
    );
  }
  // Oldest first, the draft last.
  const models = [...repo.releases, repo.draft].sort((a, b) => compareVersions(a.meta.version, b.meta.version));
  step('load');

  progress(`comparing ${models.length} versions`);
  const diffs: SpecDiff[] = [];
  for (let i = 1; i < models.length; i++) diffs.push(semanticDiff(models[i - 1] as SpecModel, models[i] as SpecModel));
  step('diff');

  const infos = models.map(versionInfo);
  const files = new Map<string, string>();
  const rendered = new Map<string, RenderedVersion>();
  const warnings: string[] = [];
  const problems: string[] = [];
  for (const [i, model] of models.entries()) {
    const info = infos[i] as VersionInfo;
    progress(`rendering ${info.label}: ${model.prose.length} chapters`);
    const history = historyFor(models, diffs, model.meta.version);
    if (model.meta.version === 'draft') problems.push(...draftSourceProblems(model));
    const version = await renderVersion(model, history);
    rendered.set(info.slug, version);
    warnings.push(...version.warnings);
    for (const chapter of version.chapters)
      problems.push(...garbledGeneratedText(`${info.slug}/${chapter.info.page}`, chapter.tree));
    problems.push(...historyGaps(info.label, diffs.slice(0, i), history));
  }
  if (problems.length > 0)
    throw new SiteBuildError(
      `the content checks found ${problems.length} problem(s):\n${problems.map((p) => `  ${p}`).join('\n')}`,
    );
  step('render and check');

  const diffInfos: DiffInfo[] = diffs.map((_, i) => {
    const from = infos[i] as VersionInfo;
    const to = infos[i + 1] as VersionInfo;
    return { from, to, page: `${from.slug}-${to.slug}.html` };
  });
  const site: SiteInfo = {
    title: repo.draft.meta.title,
    versions: [...infos].reverse(),
    diffs: [...diffInfos].reverse(),
    pagesOf: new Map(
      [...rendered].map(([slug, v]) => [
        slug,
        new Set(['index.html', ...EXTRA_PAGES, ...v.chapters.map((c) => c.info.page)]),
      ]),
    ),
  };

  progress('writing pages and search indexes');
  for (const info of infos) {
    const version = rendered.get(info.slug) as RenderedVersion;
    const chapters = version.chapters.map((c) => c.info);
    // Before the chapter pages and the single page, which change the trees in place.
    files.set(
      `${info.slug}/vhost-user.rst`,
      chaptersToRst(
        `${repo.draft.meta.title} (${info.version === 'draft' ? 'working draft' : info.version})`,
        version.chapters,
      ),
    );
    files.set(
      `${info.slug}/numbers.html`,
      renderPage({
        site,
        title: 'Messages and bits by number',
        root: '../',
        page: 'numbers.html',
        version: info,
        chapters,
        main: withConstantBreaks(numbersMain(info, version.spec, (anchor) => version.anchors.get(anchor))),
      }),
    );
    version.chapters.forEach((chapter, i) => {
      files.set(
        `${info.slug}/${chapter.info.page}`,
        renderPage({
          site,
          title: `${chapter.info.number} ${chapter.info.title}`,
          root: '../',
          page: chapter.info.page,
          version: info,
          chapters,
          current: chapter.info,
          main: chapter.tree.children.filter((n) => n.type !== 'doctype') as never,
          pager: { previous: chapters[i - 1], next: chapters[i + 1] },
        }),
      );
    });
    // After the chapter pages: it reuses (and relinks) their trees.
    files.set(
      `${info.slug}/all.html`,
      renderPage({
        site,
        title: 'The whole spec on one page',
        root: '../',
        page: 'all.html',
        version: info,
        main: singlePageMain(info, version.chapters),
      }),
    );
    files.set(
      `${info.slug}/index.html`,
      renderPage({
        site,
        title: 'Contents',
        root: '../',
        page: 'index.html',
        version: info,
        chapters,
        main: versionIndexMain(site, info, chapters),
      }),
    );
    const docs = searchDocuments({
      slug: info.slug,
      spec: version.spec,
      sections: version.chapters.flatMap((c) => c.info.toc.map((entry) => ({ page: c.info.page, entry }))),
      pageOf: (anchor) => version.anchors.get(anchor),
      mentionsOf: mentionCounter(version.chapters.map((c) => c.tree)),
    });
    files.set(`${info.slug}/search-index.json`, searchIndexJson(docs));
  }
  step('pages');

  progress(`writing ${diffInfos.length} diff pages`);
  for (const [i, info] of diffInfos.entries()) {
    const diff = diffs[i] as SpecDiff;
    files.set(
      `diff/${info.page}`,
      renderPage({
        site,
        title: `Changes ${info.from.label} → ${info.to.label}`,
        root: '../',
        page: info.page,
        main: withConstantBreaks(
          diffPageMain({
            info,
            diff,
            prose: { from: (models[i] as SpecModel).prose, to: (models[i + 1] as SpecModel).prose },
            pageOf: (slug, anchor) => rendered.get(slug)?.anchors.get(anchor),
          }),
        ),
      }),
    );
  }
  files.set(
    'diff/index.html',
    renderPage({ site, title: 'Changes', root: '../', page: 'index.html', main: diffIndexMain(site) }),
  );
  files.set('index.html', renderPage({ site, title: 'Versions', root: '', page: 'index.html', main: homeMain(site) }));
  const matrix = loadMatrix(options.matrixPath ?? join(options.root, MATRIX_PATH));
  const pinnedInfo = infos.find((v) => v.version === (matrix?.spec ?? 'draft')) ?? (infos.at(-1) as VersionInfo);
  const pinnedVersion = rendered.get(pinnedInfo.slug) as RenderedVersion;
  files.set(
    'implementations.html',
    renderPage({
      site,
      title: 'Implementations',
      root: '',
      page: 'implementations.html',
      main: withConstantBreaks(
        implementationsMain(matrix, {
          slug: pinnedInfo.slug,
          label: pinnedInfo.label,
          spec: pinnedVersion.spec,
          pageOf: (anchor) => pinnedVersion.anchors.get(anchor),
        }),
      ),
    }),
  );
  files.set(
    'anchors.json',
    anchorsJson(
      infos.map((info) => ({ slug: info.slug, anchors: (rendered.get(info.slug) as RenderedVersion).anchors })),
    ),
  );
  files.set(
    '404.html',
    renderPage({
      site,
      title: 'Not found',
      root: '',
      page: '404.html',
      main: notFoundMain(),
      anyDepth: { css: readFileSync(join(ASSETS, 'site.css'), 'utf8') },
    }),
  );
  step('diff pages');

  rmSync(options.outDir, { recursive: true, force: true });
  for (const [path, content] of files) {
    const target = join(options.outDir, path);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, content);
  }
  mkdirSync(join(options.outDir, 'assets'), { recursive: true });
  for (const name of readdirSync(ASSETS)) copyFileSync(join(ASSETS, name), join(options.outDir, 'assets', name));
  // The page script and the search code (with MiniSearch), minified; search loads on first use.
  const scripts = await bundleClient(join(options.outDir, 'assets'));
  writeFileSync(join(options.outDir, '.nojekyll'), '');
  step('write');
  timings.total = Math.round(performance.now() - started);

  return {
    outDir: options.outDir,
    files: files.size + readdirSync(ASSETS).length + scripts.length + 1,
    versions: infos.map((v) => v.slug),
    warnings,
    timings,
  };
}
