/**
 * Emits the codec's generated rings.ts (packages/codec/src/generated/): the split and packed virtqueue layouts (field offsets, sizes,
 * alignments, flag values) for the vring package, so no offset is typed twice.
 */
import type { SourceFile } from 'ts-morph';
import type { SpecModel } from '../../load.js';
import type { RingLayoutFile } from '../../schema.js';
import { camelCase, screamingSnake } from '../names.js';
import { jsdoc, sourceOf } from './docs.js';

function formula(f: string): string {
  return f.replace(/Q/g, 'queueSize');
}

function emitRing(file: SourceFile, model: SpecModel, ring: RingLayoutFile): void {
  const R = ring.ring.toUpperCase();
  for (const s of ring.structs) {
    const entries = s.fields.map(
      (f) => `${jsdoc(`${f.doc} (${f.type}${f.count ? '[]' : ''})`)}\n${camelCase(f.name)}: ${f.offset},`,
    );
    file.addStatements(
      `${jsdoc(`${s.title}: field offsets${s.size !== null ? ` and size (${s.size} bytes)` : ''}.\n@see ${sourceOf(model, s)}`)}\nexport const ${screamingSnake(s.name)} = {\n${s.size !== null ? `size: ${s.size},\n` : ''}${entries.join('\n')}\n} as const;`,
    );
  }
  const areas = ring.areas.map(
    (a) =>
      `${jsdoc(a.doc)}\n${camelCase(a.name)}: { align: ${a.align}, size: (queueSize: number): number => ${formula(a.sizeFormula)} },`,
  );
  file.addStatements(
    `${jsdoc(`The areas of a ${ring.ring} ring in guest memory: alignment and size for a queue size.\n\n${ring.doc}`)}\nexport const ${R}_RING_AREAS = {\n${areas.join('\n')}\n} as const;`,
  );
  file.addStatements(
    `${jsdoc(`Largest ${ring.ring} queue size.`)}\nexport const ${R}_MAX_QUEUE_SIZE = ${ring.maxQueueSize};`,
  );
  const constants = ring.constants.map((c) => `${jsdoc(c.doc)}\n${c.name}: ${c.value},`);
  file.addStatements(
    `${jsdoc(`Flag values and offsets of the ${ring.ring} ring.`)}\nexport const ${R}_RING = {\n${constants.join('\n')}\n} as const;`,
  );
}

export function emitRings(file: SourceFile, model: SpecModel): void {
  emitRing(file, model, model.rings.split);
  emitRing(file, model, model.rings.packed);
}
