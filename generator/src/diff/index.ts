/**
 * The semantic diff between two spec versions (see ./types.ts for the shared contract):
 * what was added, changed or removed, and which breaking rule each change triggers.
 */
import type { SpecModel } from '../load.js';
import { DiffCollector } from './collect.js';
import { diffFeatures } from './features.js';
import { diffMessages } from './messages.js';
import { diffConstants, diffHeader, diffRings } from './misc.js';
import { diffRegistry } from './numbers.js';
import { diffEnums, diffPayloads } from './payloads.js';
import { diffProse } from './prose.js';
import { diffSession } from './session.js';
import type { Change, SpecDiff } from './types.js';

export type { Change, DiffEntity, RuleCategory, SpecDiff } from './types.js';
export { BREAKING_RULES, breakingRule, type BreakingRule, type BreakingRuleId } from './rules.js';
export {
  APPROVALS_FILE,
  Approval,
  ApprovalsFile,
  applyApprovals,
  approvalMatches,
  loadApprovals,
  unapprovedBreaks,
  type LoadedApproval,
} from './approvals.js';
export { diffGeneratedApi, diffNativeApi, type ApiDiff, type ApiFileDiff } from './api.js';
export { normativeKeywords } from './prose.js';
export { emitGenerated } from './api.js';

/** Compares two loaded spec versions, older first. */
export function diffModels(from: SpecModel, to: SpecModel): SpecDiff {
  const c = new DiffCollector(from, to);
  diffMessages(c);
  diffFeatures(c);
  diffRegistry(c);
  diffPayloads(c);
  diffEnums(c);
  diffHeader(c);
  diffConstants(c);
  diffRings(c);
  diffSession(c);
  diffProse(c);
  return { from: from.meta.version, to: to.meta.version, changes: c.changes.map((ch) => withCarriers(ch, from, to)) };
}

/** Messages whose request or reply carries `struct`, directly or nested in another payload. */
export function carriersOf(model: SpecModel, struct: string): string[] {
  const containers = new Set([struct]);
  for (let grew = true; grew;) {
    grew = false;
    for (const p of model.payloads)
      if (!containers.has(p.name) && p.fields.some((f) => containers.has(f.type))) {
        containers.add(p.name);
        grew = true;
      }
  }
  return model.messages
    .filter((m) => {
      const reply = 'payload' in m.reply ? m.reply.payload : null;
      return (m.request !== null && containers.has(m.request)) || (reply !== null && containers.has(reply));
    })
    .map((m) => m.name);
}

/** A breaking struct change names every message that carries the struct, so reviewers see the reach. */
function withCarriers(change: Change, from: SpecModel, to: SpecModel): Change {
  if (change.entity !== 'payload' || !change.breaking) return change;
  const carriers = [...new Set([...carriersOf(from, change.name), ...carriersOf(to, change.name)])];
  if (carriers.length === 0) return change;
  return { ...change, summary: `${change.summary} (carried by ${carriers.join(', ')})` };
}
