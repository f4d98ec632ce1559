/** Doc comments for generated TypeScript, pointing back at the spec entry they come from. */
import type { SpecModel } from '../../load.js';

/** The one module generated code imports: the codec's runtime, relative to src/generated/. */
export const RUNTIME_MODULE = '../runtime/index.js';

/** `spec/payloads/memory.yaml:12` for an entity of the model. */
export function sourceOf(model: SpecModel, entity: object): string {
  const loc = model.where(entity);
  return `${loc.file}:${loc.line}`;
}

/** A JSDoc body (ts-morph adds the comment markers). */
export function docComment(text: string, source: string, since?: string): string {
  const lines = [text.trim(), '', `@see ${source}`];
  if (since) lines.push(`@since ${since}`);
  return lines.join('\n');
}

/** The same text as a complete comment block, for statements written as text. */
export function jsdoc(text: string): string {
  const lines = text.split('\n').map((line) => (line ? ` * ${line.replace(/\*\//g, '*\\/')}` : ' *'));
  return ['/**', ...lines, ' */'].join('\n');
}

/** The spec file a list of entities comes from (`spec/messages/frontend.yaml`). */
export function fileOf(model: SpecModel, list: readonly object[]): string {
  const first = list[0];
  return first ? model.where(first).file : model.dir;
}
