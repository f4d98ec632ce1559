/**
 * All lint rules, and running them over a repository: every version (each release and the
 * draft) is checked on its own and against the versions before it.
 */
import { append } from '../load.js';
import { allVersions, loadRepository, type SpecRepository } from '../repository.js';
import { SPEC_FILE_MAX_BYTES } from '../spec-files.js';
import { YAML_LIMITS, type SpecIssue } from '../yaml-file.js';
import { featureRequires, gateSince } from './features.js';
import { numbersNeverDropped, numbersNeverReused, releaseMeta, sinceAgrees, statusAgrees } from './history.js';
import { bitfields, enumValues, layoutOffsets, layoutSize, variableCounts } from './layout.js';
import { fdRules, references, uniqueBits, uniqueIds, uniqueNames } from './names.js';
import { proseLinks, proseMarkers, proseMentions, proseSections } from './prose.js';
import type { LintRule } from './rule.js';
import { approvalsValid } from './approvals.js';
import { draftHeadings, fillIn, proseShown, ruleProvenance, selectorComplete } from './completeness.js';

export type { LintRule } from './rule.js';

/** Rules reported by the loader itself, before any lint rule runs. */
export const LOADER_RULES: { id: string; description: string }[] = [
  { id: 'yaml-syntax', description: 'Every spec file is valid YAML without duplicate keys.' },
  { id: 'schema', description: 'Every spec file has the shape its zod schema describes.' },
  { id: 'missing-file', description: 'Every required spec file exists.' },
  { id: 'prose-chapter', description: 'Chapters listed in spec.yaml exist, and every chapter file is listed.' },
  {
    id: 'spec-file',
    description: `Every spec file and folder is real (no symbolic links, which could point out of the repository) and a file is at most ${SPEC_FILE_MAX_BYTES} bytes.`,
  },
  {
    id: 'yaml-limits',
    description: `Spec YAML nests collections at most ${YAML_LIMITS.maxDepth} deep, holds at most ${YAML_LIMITS.maxEntries} entries per list or map, and uses at most ${YAML_LIMITS.maxAliasCount} alias expansions.`,
  },
];

export const RULES: LintRule[] = [
  uniqueIds,
  uniqueBits,
  uniqueNames,
  references,
  fdRules,
  layoutOffsets,
  layoutSize,
  variableCounts,
  bitfields,
  enumValues,
  featureRequires,
  gateSince,
  proseSections,
  proseMentions,
  proseMarkers,
  proseLinks,
  sinceAgrees,
  statusAgrees,
  numbersNeverReused,
  numbersNeverDropped,
  releaseMeta,
  fillIn,
  proseShown,
  selectorComplete,
  ruleProvenance,
  draftHeadings,
  approvalsValid,
];

export function lintRepository(repo: SpecRepository, rules: LintRule[] = RULES): SpecIssue[] {
  const versions = allVersions(repo);
  const issues: SpecIssue[] = [];
  versions.forEach((model, index) => {
    const ctx = { repo, model, earlier: versions.slice(0, index) };
    for (const rule of rules) append(issues, rule.check(ctx));
  });
  return issues;
}

/**
 * Loads and lints the repository at `root`. Problems found while loading (syntax, schema,
 * missing files) are reported alone: cross-file rules would only repeat them.
 */
export function checkRepository(
  root: string,
  specDir?: string,
): { repo: SpecRepository | undefined; issues: SpecIssue[] } {
  const { repo, issues } = loadRepository(root, specDir);
  if (!repo || issues.length > 0) return { repo, issues };
  return { repo, issues: lintRepository(repo) };
}
