/**
 * spec/approvals.yaml: maintainers accept one specific breaking change, with a reason. An
 * approved change is still reported (as approved); only the verdict changes.
 */
import { join } from 'node:path';
import { z } from 'zod';
import { Implementation, Version } from '../schema.js';
import { refusedIssue, readSpecFile } from '../spec-files.js';
import { YamlFile, type SourceLocation, type SpecIssue } from '../yaml-file.js';
import { BREAKING_RULES } from './rules.js';
import type { Change, SpecDiff } from './types.js';

export const APPROVALS_FILE = 'approvals.yaml';

const ruleIds = BREAKING_RULES.map((r) => r.id) as [string, ...string[]];

export const Approval = z.strictObject({
  /** The breaking rule the change triggers. */
  rule: z.enum(ruleIds),
  /** The changed item, as the diff names it (`VHOST_USER_SET_VRING_KICK`, `VringAddr`). */
  name: z.string().min(1),
  /** Narrows the approval to one part of the item (`fields.flags.offset`); all parts if absent. */
  path: z.string().optional(),
  /** Only for comparisons from this version (the release the change breaks). */
  from: Version.optional(),
  reason: z.string().min(20, 'say why the break is acceptable, in a sentence or more'),
  /** Implementations whose maintainers acknowledged the break (see GOVERNANCE.md); empty while
   *  it is pending, which lint reports as a warning. */
  acknowledgedBy: z.array(Implementation),
  /** Implementations whose sources were checked to behave as the change says (not an acknowledgement). */
  agree: z.array(Implementation).optional(),
  link: z.url().optional(),
});
export type Approval = z.infer<typeof Approval>;

export const ApprovalsFile = z.strictObject({ approvals: z.array(Approval) });

export interface LoadedApproval extends Approval {
  loc: SourceLocation;
}

/** Reads `<specDir>/approvals.yaml`; a missing file means no approvals. */
export function loadApprovals(specDir: string, root: string): { approvals: LoadedApproval[]; issues: SpecIssue[] } {
  const path = join(specDir, APPROVALS_FILE);
  const read = readSpecFile(specDir, APPROVALS_FILE);
  if (read.kind === 'missing') return { approvals: [], issues: [] };
  if (read.kind === 'refused') return { approvals: [], issues: [refusedIssue(path, root, read.reason)] };
  const { file, issues } = YamlFile.parse(read.text, path, root);
  if (!file || issues.length > 0) return { approvals: [], issues };
  const { value, issues: schemaIssues } = file.validate(ApprovalsFile);
  if (!value) return { approvals: [], issues: schemaIssues };
  return { approvals: value.approvals.map((a, i) => ({ ...a, loc: file.at(['approvals', i]) })), issues: [] };
}

export function approvalMatches(approval: Approval, change: Change, from: string): boolean {
  if (!change.breaking || change.rule !== approval.rule || change.name !== approval.name) return false;
  if (approval.path !== undefined && approval.path !== change.path) return false;
  return approval.from === undefined || approval.from === from;
}

/** Marks the breaking changes approvals accept; returns the approvals that matched nothing. */
export function applyApprovals<T extends Approval>(diff: SpecDiff, approvals: T[]): { diff: SpecDiff; unused: T[] } {
  const used = new Set<T>();
  const changes = diff.changes.map((change) => {
    const approval = approvals.find((a) => approvalMatches(a, change, diff.from));
    if (!approval) return change;
    used.add(approval);
    return { ...change, approved: { reason: approval.reason, acknowledgedBy: approval.acknowledgedBy } };
  });
  // An approval for another starting release is not unused here, only not about this comparison.
  return {
    diff: { ...diff, changes },
    unused: approvals.filter((a) => !used.has(a) && (a.from === undefined || a.from === diff.from)),
  };
}

/** Breaking changes nobody approved: what fails a check. */
export function unapprovedBreaks(diff: SpecDiff): Change[] {
  return diff.changes.filter((c) => c.breaking && !c.approved);
}
