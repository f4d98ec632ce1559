/**
 * Emits the codec's generated rules.ts (packages/codec/src/generated/): the session preconditions (spec/rules/session.yaml) with feature
 * names resolved to bit numbers, so code evaluates the rules without reading the spec's JSON.
 */
import type { SourceFile } from 'ts-morph';
import type { SpecModel } from '../../load.js';
import type { Condition } from '../../schema.js';
import { jsdoc } from './docs.js';

const TYPES = `${jsdoc('A condition over the session state; feature bits are numbers, messages are names.')}
export type PreconditionCondition =
  | { readonly protocolFeature: number }
  | { readonly virtioFeature: number }
  | { readonly virtioFeatureOffered: number }
  | { readonly receivedBefore: string }
  | { readonly all: readonly PreconditionCondition[] }
  | { readonly any: readonly PreconditionCondition[] }
  | { readonly not: PreconditionCondition };

${jsdoc('One row of rules.preconditions: who it binds, which messages, and when they may be sent.')}
export interface Precondition {
  readonly id: string;
  readonly level: 'MUST' | 'MUST NOT' | 'SHOULD' | 'SHOULD NOT' | 'MAY';
  readonly actor: 'frontend' | 'backend';
  readonly kind: 'send-only-when' | 'never-when' | 'allowed-before';
  readonly messages: readonly string[];
  readonly condition?: PreconditionCondition;
  readonly before?: string;
  readonly summary: string;
  /**
   * Set when the rule is a clarification stricter than upstream: the level upstream states
   * (\`none\` when it is silent). Conformance judges an implementation at this level, never higher.
   */
  readonly upstreamLevel?: 'MUST' | 'MUST NOT' | 'SHOULD' | 'SHOULD NOT' | 'MAY' | 'none';
}`;

function bitOf(model: SpecModel, name: string, kind: 'protocol' | 'virtio'): number {
  const table = kind === 'protocol' ? model.protocolFeatures : model.virtioFeatures;
  const bit = table.find((f) => f.name === name)?.bit;
  if (bit === undefined) throw new Error(`rules.preconditions names unknown ${kind} feature ${name}`);
  return bit;
}

function condition(model: SpecModel, c: Condition): string {
  if ('protocolFeature' in c) return `{ protocolFeature: ${bitOf(model, c.protocolFeature, 'protocol')} }`;
  if ('virtioFeature' in c) return `{ virtioFeature: ${bitOf(model, c.virtioFeature, 'virtio')} }`;
  if ('virtioFeatureOffered' in c) return `{ virtioFeatureOffered: ${bitOf(model, c.virtioFeatureOffered, 'virtio')} }`;
  if ('receivedBefore' in c) return `{ receivedBefore: '${c.receivedBefore}' }`;
  if ('all' in c) return `{ all: [${c.all.map((x) => condition(model, x)).join(', ')}] }`;
  if ('any' in c) return `{ any: [${c.any.map((x) => condition(model, x)).join(', ')}] }`;
  return `{ not: ${condition(model, c.not)} }`;
}

/** A clarification's upstream level (rows carry `provenance` once the spec records it). */
function upstreamLevel(p: object): string[] {
  const provenance = (p as { provenance?: { source: string; upstreamLevel?: string } }).provenance;
  return provenance?.source === 'clarification' && provenance.upstreamLevel
    ? [`upstreamLevel: '${provenance.upstreamLevel}'`]
    : [];
}

export function emitRules(file: SourceFile, model: SpecModel): void {
  file.addStatements(TYPES);
  const rows = model.rules.preconditions.map((p) => {
    const parts = [
      `id: '${p.id}'`,
      `level: '${p.level}'`,
      `actor: '${p.actor}'`,
      `kind: '${p.kind}'`,
      `messages: [${p.messages.map((m) => `'${m}'`).join(', ')}]`,
      ...(p.condition ? [`condition: ${condition(model, p.condition)}`] : []),
      ...(p.before ? [`before: '${p.before}'`] : []),
      `summary: ${JSON.stringify(p.summary.trim())}`,
      ...upstreamLevel(p),
    ];
    return `{ ${parts.join(', ')} },`;
  });
  file.addStatements(
    `${jsdoc('Session preconditions (rules.preconditions), in spec order.')}\nexport const PRECONDITIONS: readonly Precondition[] = [\n${rows.join('\n')}\n];`,
  );
}
