/**
 * `vhost-user.yaml` at the repository root: which lint rules and breaking rules run, which
 * warnings count as errors, and paths to ignore. Every ignore needs a reason, and every issue an
 * ignore hides is reported (as approvals are): nothing is dropped silently.
 *
 *   lint:
 *     use: [all]                 # rule ids, or `all` (the default)
 *     except: [draft-heading]    # rule ids taken out of `use`
 *     error: [draft-heading]     # warnings that fail the run
 *     ignore:
 *       - path: spec/releases/1.0/**
 *         rules: [prose-shown]   # optional: all rules when absent
 *         reason: Frozen before the rule existed.
 *   breaking:
 *     use: [WIRE, BEHAVIOR]      # categories, rule ids, or `all`
 *     except: [anchor-removed]
 *     error: [prose-normative-changed]
 *     ignore: [...]              # as for lint
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import {
  BREAKING_RULES,
  LOADER_RULES,
  RULES,
  readSpecFile,
  refusedIssue,
  YamlFile,
  type Change,
  type SourceLocation,
  type SpecIssue,
} from '@vhost-user/generator';
import { SpecLoadFailure } from './errors.js';

export const CONFIG_FILE = 'vhost-user.yaml';

const Ignore = z.strictObject({
  path: z.string().min(1),
  rules: z.array(z.string()).optional(),
  reason: z.string().min(10, 'say why these findings are ignored, in a sentence'),
});

const Section = z.strictObject({
  use: z.array(z.string()).optional(),
  except: z.array(z.string()).optional(),
  error: z.array(z.string()).optional(),
  ignore: z.array(Ignore).optional(),
});

const ConfigFile = z.strictObject({ lint: Section.optional(), breaking: Section.optional() });

export interface LoadedIgnore {
  path: string;
  rules?: string[];
  reason: string;
  loc: SourceLocation;
}

export interface SectionConfig {
  use: string[];
  except: string[];
  error: string[];
  ignore: LoadedIgnore[];
}

export interface Config {
  /** Where it was read from, or undefined for the defaults. */
  file?: string;
  lint: SectionConfig;
  breaking: SectionConfig;
}

const DEFAULT_SECTION: SectionConfig = { use: ['all'], except: [], error: [], ignore: [] };

const LINT_IDS = new Set([...LOADER_RULES, ...RULES].map((r) => r.id));
const BREAKING_IDS = new Set<string>(BREAKING_RULES.map((r) => r.id));
const CATEGORIES = new Set(['WIRE', 'BEHAVIOR', 'SOURCE', 'DOC']);

/** Reads `<root>/vhost-user.yaml`; the defaults when there is none. Unknown rule ids are errors. */
export function loadConfig(root: string): Config {
  const path = join(root, CONFIG_FILE);
  if (!existsSync(path)) return { lint: DEFAULT_SECTION, breaking: DEFAULT_SECTION };
  const read = readSpecFile(root, CONFIG_FILE);
  if (read.kind === 'refused') throw new SpecLoadFailure(CONFIG_FILE, [refusedIssue(path, root, read.reason)]);
  const { file, issues } = YamlFile.parse(read.kind === 'text' ? read.text : '', path, root);
  if (!file || issues.length > 0) throw new SpecLoadFailure(CONFIG_FILE, issues);
  const { value, issues: schemaIssues } = file.validate(ConfigFile);
  if (!value) throw new SpecLoadFailure(CONFIG_FILE, schemaIssues);
  const problems: SpecIssue[] = [];
  const section = (key: 'lint' | 'breaking'): SectionConfig => {
    const raw = value[key];
    if (!raw) return DEFAULT_SECTION;
    const known = (id: string) =>
      id === 'all' || (key === 'lint' ? LINT_IDS.has(id) : BREAKING_IDS.has(id) || CATEGORIES.has(id));
    for (const list of ['use', 'except', 'error'] as const)
      (raw[list] ?? []).forEach((id, i) => {
        if (!known(id))
          problems.push({
            rule: 'config',
            message: `${key}.${list}: unknown ${key === 'lint' ? 'lint rule' : 'breaking rule or category'} "${id}"${suggest(id, key === 'lint' ? [...LINT_IDS] : [...BREAKING_IDS, ...CATEGORIES])}; see vhost-user rules${key === 'lint' ? ' --lint' : ''}`,
            loc: file.at([key, list, i]),
            severity: 'error',
          });
      });
    return {
      use: raw.use ?? ['all'],
      except: raw.except ?? [],
      error: raw.error ?? [],
      ignore: (raw.ignore ?? []).map((ig, i) => ({ ...ig, loc: file.at([key, 'ignore', i]) })),
    };
  };
  const config = { file: CONFIG_FILE, lint: section('lint'), breaking: section('breaking') };
  if (problems.length > 0) throw new SpecLoadFailure(CONFIG_FILE, problems);
  return config;
}

/** ` (did you mean "x"?)` for the closest of `names`, or nothing when none is close. */
export function suggest(word: string, names: string[]): string {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const name of names) {
    const d = editDistance(word.toLowerCase(), name.toLowerCase());
    if (d < bestDistance) {
      best = name;
      bestDistance = d;
    }
  }
  return best !== undefined && bestDistance <= Math.max(2, Math.floor(word.length / 3))
    ? ` (did you mean "${best}"?)`
    : '';
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++)
      row[j] = Math.min(
        (prev[j] ?? 0) + 1,
        (row[j - 1] ?? 0) + 1,
        (prev[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    prev = row;
  }
  return prev[b.length] ?? 0;
}

/** Whether a file path matches a pattern: a prefix (`spec/prose/`), or a glob with * and **. */
export function pathMatches(pattern: string, file: string): boolean {
  if (!/[*?]/.test(pattern))
    return file === pattern || file.startsWith(pattern.endsWith('/') ? pattern : `${pattern}/`);
  const regex = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*\*/g, '\u0000')
    .replace(/\*/g, '[^/]*')
    .replace(/\?/g, '[^/]')
    .replace(/\u0000/g, '.*');
  return new RegExp(`^${regex}$`).test(file);
}

/** Whether a section selects a rule (by id, by its category for breaking rules, or `all`). */
export function selects(section: SectionConfig, id: string, category?: string): boolean {
  const hit = (list: string[]) =>
    list.includes('all') || list.includes(id) || (category !== undefined && list.includes(category));
  return (
    hit(section.use) && !(section.except.includes(id) || (category !== undefined && section.except.includes(category)))
  );
}

export interface Ignored<T> {
  item: T;
  by: LoadedIgnore;
}

/** Splits findings into kept and ignored by the section's path ignores. */
export function applyIgnores<T>(
  section: SectionConfig,
  items: T[],
  where: (item: T) => { rule?: string; file?: string },
): { kept: T[]; ignored: Ignored<T>[] } {
  const kept: T[] = [];
  const ignored: Ignored<T>[] = [];
  for (const item of items) {
    const { rule, file } = where(item);
    const by = section.ignore.find(
      (ig) =>
        file !== undefined &&
        pathMatches(ig.path, file) &&
        (!ig.rules || (rule !== undefined && ig.rules.includes(rule))),
    );
    if (by) ignored.push({ item, by });
    else kept.push(item);
  }
  return { kept, ignored };
}

/** Lint issues after the config: unselected rules dropped, chosen warnings raised, ignores split off. */
export function configureLint(
  config: Config,
  issues: SpecIssue[],
  pathFilter: string | undefined,
): { issues: SpecIssue[]; ignored: Ignored<SpecIssue>[]; skippedRules: string[] } {
  const loader = new Set(LOADER_RULES.map((r) => r.id));
  const selected = issues
    .filter((i) => loader.has(i.rule) || i.rule === 'config' || selects(config.lint, i.rule))
    .filter((i) => pathFilter === undefined || pathMatches(pathFilter, i.loc.file))
    .map((i) =>
      i.severity === 'warning' && config.lint.error.includes(i.rule) ? { ...i, severity: 'error' as const } : i,
    );
  const { kept, ignored } = applyIgnores(config.lint, selected, (i) => ({ rule: i.rule, file: i.loc.file }));
  const skippedRules = [...LINT_IDS].filter((id) => !loader.has(id) && !selects(config.lint, id));
  return { issues: kept, ignored, skippedRules };
}

/** Breaking changes after the config: unselected rules lose their verdict, chosen warnings fail. */
export function configureBreaking(
  config: Config,
  changes: Change[],
  pathFilter: string | undefined,
): { changes: Change[]; ignored: Ignored<Change>[]; skippedRules: string[] } {
  const inPath = changes.filter(
    (c) => pathFilter === undefined || (c.loc !== undefined && pathMatches(pathFilter, c.loc.file)),
  );
  const judged = inPath.map((c): Change => {
    if (!c.rule) return c;
    if (!selects(config.breaking, c.rule, c.category)) return { ...c, breaking: false, warning: false };
    if (
      c.warning &&
      (config.breaking.error.includes(c.rule) || (c.category && config.breaking.error.includes(c.category)))
    )
      return { ...c, breaking: true, warning: false };
    return c;
  });
  const { kept, ignored } = applyIgnores(config.breaking, judged, (c) => ({ rule: c.rule, file: c.loc?.file }));
  const skippedRules = BREAKING_RULES.filter((r) => !selects(config.breaking, r.id, r.category)).map((r) => r.id);
  return { changes: kept, ignored, skippedRules };
}
