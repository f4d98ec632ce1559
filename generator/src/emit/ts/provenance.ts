/**
 * Emits the codec's generated provenance.ts (packages/codec/src/generated/): where each session rule and each clarified prose paragraph
 * comes from, and the level a check derived from it may enforce (so the conformance suite can
 * demote a case built on a clarification to what upstream states).
 */
import type { SourceFile } from 'ts-morph';
import type { SpecModel } from '../../load.js';
import { proseClarifications } from '../../provenance.js';
import { jsdoc } from './docs.js';

const literal = (value: unknown) => JSON.stringify(value, null, 2);

export function emitProvenance(file: SourceFile, model: SpecModel): void {
  file.addStatements(
    `${jsdoc('The RFC 2119 levels a rule can have.')}\nexport type RuleLevel = 'MUST' | 'MUST NOT' | 'SHOULD' | 'SHOULD NOT' | 'MAY';`,
  );
  file.addStatements(
    `${jsdoc('Where a normative rule comes from: the upstream text at a QEMU version or commit, or a clarification this specification added (why, who already behaves so, and what upstream says).')}\nexport type RuleProvenance =\n  | { readonly source: 'upstream'; readonly qemu: string }\n  | { readonly source: 'clarification'; readonly reason: string; readonly agree: readonly string[]; readonly upstreamLevel: RuleLevel | 'none' };`,
  );
  const preconditions = Object.fromEntries(model.rules.preconditions.map((r) => [r.id, r.provenance ?? null]));
  file.addStatements(
    `${jsdoc('Provenance of each precondition of rules/session.yaml, by id (null: not recorded).')}\nexport const PRECONDITION_PROVENANCE: Readonly<Record<string, RuleProvenance | null>> = ${literal(preconditions)};`,
  );
  const transitions = Object.fromEntries(
    model.rules.ringStates.transitions.map((t) => [
      `${t.message}${t.num === undefined ? '' : `/${t.num}`}`,
      t.provenance ?? null,
    ]),
  );
  file.addStatements(
    `${jsdoc('Provenance of each ring-state transition, by message (and `/num` where the payload selects the effect).')}\nexport const RING_TRANSITION_PROVENANCE: Readonly<Record<string, RuleProvenance | null>> = ${literal(transitions)};`,
  );
  const prose = proseClarifications(model).map((c) => ({
    chapter: c.chapter,
    anchor: c.anchor,
    line: c.loc.line,
    text: c.text,
    reason: c.reason,
    agree: c.agree,
    upstreamLevel: c.upstreamLevel,
  }));
  file.addStatements(
    `${jsdoc('Prose paragraphs this specification states more strictly than upstream (each marked ::clarification); unmarked prose follows the upstream text.')}\nexport const PROSE_CLARIFICATIONS: readonly { readonly chapter: string; readonly anchor: string; readonly line: number; readonly text: string; readonly reason: string; readonly agree: readonly string[]; readonly upstreamLevel: RuleLevel | 'none' }[] = ${literal(prose)};`,
  );
  file.addStatements(
    `${jsdoc("The level a check derived from a rule may fail an implementation at: the rule's own for upstream text, never above upstream's for a clarification (`none`: report, do not fail).")}\nexport function enforceableLevel(level: RuleLevel, provenance: RuleProvenance | null | undefined): RuleLevel | 'none' {\n  if (!provenance || provenance.source === 'upstream') return level;\n  return provenance.upstreamLevel;\n}`,
  );
}
