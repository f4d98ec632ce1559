/** One comparison as the commands run it: diff two sources, then apply spec/approvals.yaml. */
import { join } from 'node:path';
import { applyApprovals, diffModels, loadApprovals, type LoadedApproval, type SpecDiff } from '@vhost-user/generator';
import { SpecLoadFailure } from './errors.js';
import type { SpecSource } from './sources.js';

export interface Comparison {
  diff: SpecDiff;
  fromLabel: string;
  toLabel: string;
  /** Approvals that matched no change of this comparison. */
  unused: LoadedApproval[];
}

export function loadRepositoryApprovals(root: string): LoadedApproval[] {
  const { approvals, issues } = loadApprovals(join(root, 'spec'), root);
  if (issues.length > 0) throw new SpecLoadFailure('spec/approvals.yaml', issues);
  return approvals;
}

export function compare(root: string, from: SpecSource, to: SpecSource): Comparison {
  const raw = diffModels(from.model, to.model);
  // Removals point into the older side; for a git ref that file is not in the work tree.
  const changes = raw.changes.map((c) =>
    from.kind === 'git' && c.kind === 'removed' && c.loc
      ? { ...c, loc: { ...c.loc, file: `${from.ref}:${c.loc.file}` } }
      : c,
  );
  const { diff, unused } = applyApprovals({ ...raw, changes }, loadRepositoryApprovals(root));
  return { diff, fromLabel: from.label, toLabel: to.label, unused };
}
