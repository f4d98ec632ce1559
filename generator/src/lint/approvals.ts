/**
 * spec/approvals.yaml is part of the spec: lint validates its shape, that each approval still
 * matches a breaking change (against its `from` release, or any release), and that whoever
 * acknowledged it is an implementation GOVERNANCE.md names.
 */
import { basename, dirname } from 'node:path';
import { approvalMatches, loadApprovals, type LoadedApproval } from '../diff/approvals.js';
import { diffModels } from '../diff/index.js';
import type { SpecDiff } from '../diff/types.js';
import type { SpecIssue } from '../yaml-file.js';
import { readImplementations } from './governance.js';
import { Findings, type LintRule } from './rule.js';

export const approvalsValid: LintRule = {
  id: 'approvals',
  description:
    'spec/approvals.yaml is valid, every approval matches a breaking change against a release, and acknowledgers are implementations GOVERNANCE.md lists.',
  check({ model, repo }) {
    if (model !== repo.draft) return [];
    const f = new Findings(this.id, model);
    const { approvals, issues } = loadApprovals(model.dir, repo.root);
    const retag = (i: SpecIssue): SpecIssue => ({ ...i, rule: this.id, message: `approvals.yaml: ${i.message}` });
    if (issues.length > 0) return issues.map(retag);
    const diffs = new Map<string, SpecDiff>();
    const against = (version: string): SpecDiff | undefined => {
      const release = repo.releases.find((r) => r.meta.version === version);
      if (!release) return undefined;
      if (!diffs.has(version)) diffs.set(version, diffModels(release, model));
      return diffs.get(version);
    };
    // GOVERNANCE.md sits next to spec/ at the repository root.
    const root = basename(model.dir) === 'spec' ? dirname(model.dir) : repo.root;
    const known = new Set(readImplementations(root).map((i) => i.id));
    for (const a of approvals) {
      const versions = a.from ? [a.from] : repo.releases.map((r) => r.meta.version);
      if (a.from && !repo.releases.some((r) => r.meta.version === a.from)) {
        f.atLocation(a.loc, `approval for ${a.rule} ${a.name}: from ${a.from} is not a release`);
        continue;
      }
      const matched = versions.some((v) => against(v)?.changes.some((c) => approvalMatches(a, c, v)));
      if (!matched)
        f.atLocation(
          a.loc,
          `approval for ${a.rule} ${a.name}${a.path ? ` (${a.path})` : ''} matches no breaking change against ${a.from ?? 'any release'}; remove it or correct rule, name and path (vhost-user breaking --against ${a.from ?? versions[versions.length - 1] ?? '<release>'} prints them)`,
        );
      checkAcknowledgers(f, a, known);
    }
    return f.issues;
  },
};

function checkAcknowledgers(f: Findings, a: LoadedApproval, known: Set<string>): void {
  for (const id of a.acknowledgedBy)
    if (known.size > 0 && !known.has(id))
      f.atLocation(
        a.loc,
        `approval for ${a.rule} ${a.name}: acknowledgedBy names ${id}, which is not in GOVERNANCE.md's Implementations table (${[...known].join(', ')})`,
      );
}
