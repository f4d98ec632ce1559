/**
 * `vhost-user release <version>`: freezes the draft into spec/releases/<version>/, accepts
 * the draft's proposals (GOVERNANCE.md, "Releases"), writes the CHANGELOG section from the
 * semantic diff, bumps @vhost-user/codec and regenerates generated/.
 */
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { parse, parseDocument, stringify } from 'yaml';
import {
  checkRepository,
  compareVersions,
  emitGenerated,
  formatIssue,
  unapprovedBreaks,
  type Change,
  type SpecMeta,
} from '@vhost-user/generator';
import { parse as parseArgs } from '../args.js';
import { addReleaseSection } from '../changelog.js';
import { compare } from '../compare.js';
import { UsageError } from '../errors.js';
import type { Io } from '../io.js';
import { ENTITY_TITLES, groupByEntity } from '../output/diff.js';
import { workingSource, findRoot } from '../sources.js';

export const RELEASE_HELP = 'vhost-user release <version> [--date YYYY-MM-DD] [--summary text]   freeze the draft';

/** Files of the draft that a release copies: everything in spec/ but releases/ and approvals.yaml. */
function draftFiles(specDir: string, dir = specDir): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    const rel = relative(specDir, path);
    if (rel === 'releases' || rel === 'approvals.yaml') return [];
    return statSync(path).isDirectory() ? draftFiles(specDir, path) : [rel];
  });
}

/** The draft's text with its proposals accepted: `since: draft` -> the version, proposed -> stable. */
export function acceptProposals(rel: string, text: string, version: string): string {
  if (!rel.endsWith('.yaml')) return text;
  const since = text
    .replace(/^(\s*(?:-\s+)?since:\s*)["']?draft["']?(\s*(?:#.*)?)$/gm, `$1"${version}"$2`)
    .replace(/(\bsince:\s*)["']?draft["']?(\s*[,}])/g, `$1"${version}"$2`);
  const accepted = rel === 'registry.yaml' ? 'reserved' : 'stable';
  return since
    .replace(/^(\s*(?:-\s+)?status:\s*)proposed\b/gm, `$1${accepted}`)
    .replace(/(\bstatus:\s*)proposed(\s*[,}])/g, `$1${accepted}$2`);
}

function releaseSpecYaml(
  draftText: string,
  version: string,
  previous: string | null,
  date: string,
  summary: string,
): string {
  const draft = parse(draftText) as SpecMeta;
  const meta: SpecMeta = {
    title: draft.title,
    version,
    status: 'frozen',
    previous,
    release: { version, date, summary, corresponds: draft.release.corresponds },
    prose: draft.prose,
  };
  return `# Frozen release ${version} of the vhost-user protocol. Do not edit: change the draft in spec/.\n${stringify(meta, { lineWidth: 0 })}`;
}

function draftSpecYaml(draftText: string, version: string): string {
  const doc = parseDocument(draftText);
  doc.set('previous', version);
  doc.setIn(['release', 'corresponds'], doc.createNode({}));
  return doc.toString({ lineWidth: 0 });
}

/** One line per change for the CHANGELOG, grouped like the diff. */
function changelogLines(changes: Change[]): string[] {
  const lines: string[] = [];
  for (const [entity, list] of groupByEntity(
    changes.filter((c) => c.kind !== 'changed' || c.breaking || !/reworded|description/.test(c.summary)),
  )) {
    lines.push(`- ${ENTITY_TITLES[entity]}:`);
    for (const c of list)
      lines.push(
        `  - ${c.summary}${c.breaking ? ` (breaking: \`${c.rule}\`${c.approved ? `, approved: ${c.approved.reason}` : ''})` : ''}`,
      );
  }
  return lines.length > 0 ? lines : ['- No change to the protocol tables or the prose.'];
}

/** 0.4.1 -> 0.5.0; with approved breaking changes, 1.4.0 -> 2.0.0 (0.x stays on minor). */
export function nextCodecVersion(current: string, breaking: boolean): string {
  const [major = 0, minor = 0] = current.split('.').map(Number);
  if (breaking && major > 0) return `${major + 1}.0.0`;
  return `${major}.${minor + 1}.0`;
}

/** Bumps @vhost-user/codec and every exact pin on it (workspace package.json files and the lockfile). */
function bumpCodec(root: string, breaking: boolean): { from: string; to: string; files: string[] } {
  const manifest = join(root, 'packages/codec/package.json');
  const text = readFileSync(manifest, 'utf8');
  const current = (JSON.parse(text) as { version: string }).version;
  const next = nextCodecVersion(current, breaking);
  const files: string[] = [];
  const write = (path: string, content: string, before: string) => {
    if (content === before) return;
    writeFileSync(path, content);
    files.push(relative(root, path));
  };
  write(manifest, text.replace(/("version"\s*:\s*")[^"]+(")/, `$1${next}$2`), text);
  const pin = new RegExp(`("@vhost-user/codec"\\s*:\\s*")${current.replace(/\./g, '\\.')}(")`, 'g');
  const packagesDir = join(root, 'packages');
  for (const name of existsSync(packagesDir) ? readdirSync(packagesDir) : []) {
    const path = join(packagesDir, name, 'package.json');
    if (name === 'codec' || !existsSync(path)) continue;
    const before = readFileSync(path, 'utf8');
    write(path, before.replace(pin, `$1${next}$2`), before);
  }
  const lock = join(root, 'package-lock.json');
  if (existsSync(lock)) {
    const before = readFileSync(lock, 'utf8');
    const entry = new RegExp(
      `("packages/codec"\\s*:\\s*\\{\\s*"name"\\s*:\\s*"@vhost-user/codec",\\s*"version"\\s*:\\s*")${current.replace(/\./g, '\\.')}(")`,
    );
    write(lock, before.replace(entry, `$1${next}$2`).replace(pin, `$1${next}$2`), before);
  }
  return { from: current, to: next, files };
}

export async function runRelease(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs(argv, { date: { type: 'string' }, summary: { type: 'string' } }, 'release');
  const [version, ...extra] = positionals;
  if (!version || extra.length > 0)
    throw new UsageError('release: expected exactly one version, e.g. vhost-user release 1.3');
  if (!/^\d+\.\d+$/.test(version)) throw new UsageError(`release: "${version}" is not a release number such as 1.3`);
  const date = typeof values.date === 'string' ? values.date : new Date().toISOString().slice(0, 10);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(date)) throw new UsageError(`release: --date must be YYYY-MM-DD (got ${date})`);
  const root = findRoot(typeof values.root === 'string' ? values.root : io.cwd);
  const specDir = join(root, 'spec');

  const { repo, issues } = checkRepository(root);
  if (!repo || issues.length > 0) {
    for (const issue of issues) io.err(formatIssue(issue));
    const headings = issues.filter((i) => i.rule === 'draft-heading').length;
    io.err(
      `release ${version}: refused, the spec has ${issues.length} problem(s); fix them first (npm run lint)${headings > 0 ? `. ${headings} heading(s) use words only true of the draft: a release freezes them into anchors, so rename them now` : ''}`,
    );
    return 1;
  }
  const newest = repo.releases[repo.releases.length - 1];
  if (existsSync(join(specDir, 'releases', version))) {
    io.err(`release ${version}: refused, spec/releases/${version} already exists`);
    return 1;
  }
  if (newest && compareVersions(version, newest.meta.version) <= 0) {
    io.err(`release ${version}: refused, it must be newer than the newest release ${newest.meta.version}`);
    return 1;
  }
  if (!newest) throw new UsageError('release: spec/releases holds no earlier release to compare with');

  const from = { model: newest, label: newest.meta.version, kind: 'release' as const, dispose: () => {} };
  const cmp = compare(root, from, workingSource(root));
  const failing = unapprovedBreaks(cmp.diff);
  if (failing.length > 0) {
    for (const c of failing)
      io.err(`${c.loc ? `${c.loc.file}:${c.loc.line}: ` : ''}${c.rule}: ${c.name}: ${c.summary}`);
    io.err(
      `release ${version}: refused, ${failing.length} unapproved breaking change(s) against ${newest.meta.version}; approve them in spec/approvals.yaml or revert them`,
    );
    return 1;
  }

  const summary =
    typeof values.summary === 'string'
      ? values.summary
      : `Release ${version}: ${cmp.diff.changes.filter((c) => c.kind === 'added').length} addition(s) and ${cmp.diff.changes.filter((c) => c.kind !== 'added').length} other change(s) since ${newest.meta.version}.`;
  const written: string[] = [];
  const releaseDir = join(specDir, 'releases', version);
  for (const rel of draftFiles(specDir)) {
    const source = join(specDir, rel);
    const text = readFileSync(source, 'utf8');
    const accepted = acceptProposals(rel, text, version);
    const frozen = rel === 'spec.yaml' ? releaseSpecYaml(text, version, newest.meta.version, date, summary) : accepted;
    mkdirSync(dirname(join(releaseDir, rel)), { recursive: true });
    if (frozen === text) cpSync(source, join(releaseDir, rel));
    else writeFileSync(join(releaseDir, rel), frozen);
    const draft = rel === 'spec.yaml' ? draftSpecYaml(text, version) : accepted;
    if (draft !== text) {
      writeFileSync(source, draft);
      written.push(`spec/${rel}`);
    }
  }

  const changelogPath = join(root, 'CHANGELOG.md');
  const changelog = existsSync(changelogPath) ? readFileSync(changelogPath, 'utf8') : '# Changelog\n\n## Unreleased\n';
  writeFileSync(changelogPath, addReleaseSection(changelog, version, date, changelogLines(cmp.diff.changes)));
  const frozenMeta = parse(readFileSync(join(releaseDir, 'spec.yaml'), 'utf8')) as SpecMeta;
  const readme = addReadmeRow(root, version, summary, frozenMeta);
  const bump = bumpCodec(
    root,
    cmp.diff.changes.some((c) => c.breaking),
  );

  // generated/ must follow the spec, or generate:check fails on the next commit.
  const after = checkRepository(root);
  if (!after.repo || after.issues.length > 0) {
    for (const issue of after.issues) io.err(formatIssue(issue));
    io.err(`release ${version}: the frozen spec does not lint clean; inspect spec/releases/${version}`);
    return 1;
  }
  let regenerated = 0;
  for (const [path, content] of await emitGenerated(after.repo)) {
    const full = join(root, path);
    if (existsSync(full) && readFileSync(full, 'utf8') === content) continue;
    mkdirSync(dirname(full), { recursive: true });
    writeFileSync(full, content);
    regenerated++;
  }

  io.out(
    [
      `released ${version} (previous ${newest.meta.version}): spec/releases/${version}/`,
      `  draft updated: ${written.length > 0 ? written.join(', ') : 'nothing to accept'}`,
      `  CHANGELOG.md: section ${version} written from ${cmp.diff.changes.length} change(s); edit it before committing`,
      `  @vhost-user/codec ${bump.from} -> ${bump.to} (${bump.files.join(', ')})`,
      `  generated files: ${regenerated} written`,
      `  README.md: ${readme ? 'release table gains a row for ' + version : 'no "## Releases" table found; add the row by hand'}`,
      '',
      'then commit the release and tag it (GOVERNANCE.md, "Consuming a release": consumers pin the tag):',
      `  git add -A && git commit -m "Release ${version}"`,
      `  ${tagCommand(version, summary)}`,
    ].join('\n'),
  );
  return 0;
}

/** The annotated tag consumers pin (`v1.3`), with the release summary as its message. */
export function tagCommand(version: string, summary: string): string {
  const message = `vhost-user specification ${version}: ${summary}`.replace(/'/g, "'\\''");
  return `git tag -a v${version} -m '${message}'`;
}

/** Adds `| version | summary | corresponds |` at the end of README.md's release table. */
function addReadmeRow(root: string, version: string, summary: string, meta: SpecMeta): boolean {
  const path = join(root, 'README.md');
  if (!existsSync(path)) return false;
  const text = readFileSync(path, 'utf8');
  const next = readmeWithRelease(text, version, summary, meta.release.corresponds);
  if (next === text) return false;
  writeFileSync(path, next);
  return true;
}

export function readmeWithRelease(
  text: string,
  version: string,
  summary: string,
  corresponds: Record<string, string>,
): string {
  const lines = text.split('\n');
  const section = lines.findIndex((l) => /^## Releases\s*$/.test(l));
  if (section < 0) return text;
  const header = lines.findIndex((l, i) => i > section && /^\| release \|/.test(l));
  if (header < 0) return text;
  let last = header + 1;
  while ((lines[last + 1] ?? '').startsWith('|')) last++;
  if (lines.slice(header, last + 1).some((l) => l.startsWith(`| ${version} |`))) return text;
  const cell = (t: string) => t.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  const upstream =
    Object.entries(corresponds)
      .map(([k, v]) => `${k} ${v}`)
      .join('; ') || 'not yet recorded';
  lines.splice(last + 1, 0, `| ${version} | ${cell(summary)} | ${cell(upstream)} |`);
  return lines.join('\n');
}
