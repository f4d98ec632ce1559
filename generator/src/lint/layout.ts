/** Payload layouts: offsets add up with explicit padding, sizes match, bitfields fit. */
import type { SpecModel } from '../load.js';
import {
  bitWidth,
  elementShape,
  fixedPartSize,
  isPrimitive,
  isVariableCount,
  lookupIn,
  structAlign,
  structsOf,
  type StructLookup,
} from '../layout.js';
import type { BitRange, Field, Payload } from '../schema.js';
import { Findings, type LintRule } from './rule.js';

/** Checks one run of fields that should tile [start, end) with no gaps or overlaps. */
function checkFields(
  f: Findings,
  p: Payload,
  fields: Field[],
  base: (string | number)[],
  start: number,
  lookup: StructLookup,
): number | undefined {
  let expected = start;
  for (const [i, field] of fields.entries()) {
    const shape = elementShape(field.type, lookup);
    if (!shape) return undefined; // reported by unresolved-reference or for variable nested structs
    if (field.offset !== expected) {
      const gap =
        field.offset > expected
          ? `a gap of ${field.offset - expected} byte(s); write the padding as a field`
          : `an overlap of ${expected - field.offset} byte(s)`;
      f.at(
        p,
        [...base, i, 'offset'],
        `${p.name}.${field.name} is at offset ${field.offset} but the previous field ends at ${expected}: ${gap}`,
      );
    }
    if (field.offset % shape.align !== 0) {
      f.at(
        p,
        [...base, i, 'offset'],
        `${p.name}.${field.name} (${field.type}) at offset ${field.offset} is not aligned to ${shape.align}; a C compiler would insert padding`,
      );
    }
    if (isVariableCount(field)) {
      if (i !== fields.length - 1)
        f.at(p, [...base, i, 'count'], `${p.name}.${field.name} has a variable count, so it must be the last field`);
      return undefined;
    }
    expected = field.offset + shape.size * (typeof field.count === 'number' ? field.count : 1);
  }
  return expected;
}

export const layoutOffsets: LintRule = {
  id: 'layout-offset',
  description:
    'Field offsets follow each other with no gap or overlap (padding is an explicit field) and are naturally aligned.',
  check({ model }) {
    const f = new Findings(this.id, model);
    const lookup = lookupIn(model);
    for (const p of structsOf(model)) {
      const end = checkFields(f, p, p.fields, ['fields'], 0, lookup);
      if (p.extension && end !== undefined && p.size !== null)
        checkFields(f, p, p.extension.fields, ['extension', 'fields'], p.size, lookup);
    }
    return f.issues;
  },
};

export const layoutSize: LintRule = {
  id: 'layout-size',
  description:
    'Declared sizes equal the sum of the fields, a multiple of the alignment; variable payloads give the right maximum.',
  check({ model }) {
    const f = new Findings(this.id, model);
    const lookup = lookupIn(model);
    for (const p of structsOf(model)) {
      if (p.opaque) {
        if (p.fields.length > 0) f.at(p, ['fields'], `${p.name} is opaque, so it must not list fields`);
        if (p.size !== null) f.at(p, ['size'], `${p.name} is opaque, so its size is null`);
        continue;
      }
      const last = p.fields[p.fields.length - 1];
      const variable = last !== undefined && isVariableCount(last);
      if (variable) {
        if (p.size !== null) f.at(p, ['size'], `${p.name} ends with a variable-length field, so its size must be null`);
        const shape = last ? elementShape(last.type, lookup) : undefined;
        if (last && shape && typeof last.count === 'object') {
          const max = fixedPartSize(p, lookup) + shape.size * last.count.max;
          if (p.maxSize !== max)
            f.at(
              p,
              ['maxSize'],
              `${p.name}.maxSize is ${p.maxSize ?? 'missing'} but ${fixedPartSize(p, lookup)} + ${last.count.max} x ${shape.size} = ${max}`,
            );
        }
        continue;
      }
      const end = p.fields.reduce((acc, field) => {
        const shape = elementShape(field.type, lookup);
        return shape
          ? Math.max(acc, field.offset + shape.size * (typeof field.count === 'number' ? field.count : 1))
          : acc;
      }, 0);
      if (p.size === null) {
        f.at(p, ['size'], `${p.name} has no variable-length field, so its size must be given (${end})`);
        continue;
      }
      if (p.size !== end) f.at(p, ['size'], `${p.name}.size is ${p.size} but its fields end at ${end}`);
      const align = structAlign(p, lookup);
      if (p.size % align !== 0)
        f.at(
          p,
          ['size'],
          `${p.name}.size ${p.size} is not a multiple of its alignment ${align}; C adds tail padding: write it as a field`,
        );
      if (p.extension) {
        const extEnd = p.extension.fields.reduce((acc, field) => {
          const shape = elementShape(field.type, lookup);
          return shape
            ? Math.max(acc, field.offset + shape.size * (typeof field.count === 'number' ? field.count : 1))
            : acc;
        }, p.size);
        if (extEnd !== p.extension.size)
          f.at(
            p,
            ['extension', 'size'],
            `${p.name}.extension.size is ${p.extension.size} but its fields end at ${extEnd}`,
          );
      }
    }
    return f.issues;
  },
};

export const variableCounts: LintRule = {
  id: 'layout-count',
  description: 'A variable count names an earlier integer field of the same struct.',
  check({ model }) {
    const f = new Findings(this.id, model);
    for (const p of structsOf(model)) {
      p.fields.forEach((field, i) => {
        if (typeof field.count !== 'object' || !('field' in field.count)) return;
        const counter = p.fields.slice(0, i).find((other) => other.name === (field.count as { field: string }).field);
        if (!counter)
          f.at(
            p,
            ['fields', i, 'count', 'field'],
            `${p.name}.${field.name} is counted by "${field.count.field}", which is not an earlier field of ${p.name}`,
          );
        else if (!isPrimitive(counter.type) || counter.count !== undefined)
          f.at(
            p,
            ['fields', i, 'count', 'field'],
            `${p.name}.${field.name} is counted by ${counter.name}, which is not a single integer`,
          );
      });
    }
    return f.issues;
  },
};

/** Bits must fit the field, not overlap, and cover it entirely (reserved bits are explicit). */
function checkBits(f: Findings, p: Payload, field: Field, bits: BitRange[], path: (string | number)[]): void {
  const width = bitWidth(field.type);
  if (width === undefined || field.count !== undefined) {
    f.at(p, path, `${p.name}.${field.name} has bitfields but is not a single integer`);
    return;
  }
  const owner = new Array<string | undefined>(width).fill(undefined);
  for (const [j, range] of bits.entries()) {
    if (range.lsb + range.width > width) {
      f.at(
        p,
        [...path, j],
        `${p.name}.${field.name}.${range.name} (bits ${range.lsb}..${range.lsb + range.width - 1}) does not fit in ${width} bits`,
      );
      continue;
    }
    for (let bit = range.lsb; bit < range.lsb + range.width; bit++) {
      if (owner[bit])
        f.at(p, [...path, j], `${p.name}.${field.name}: bit ${bit} belongs to both ${owner[bit]} and ${range.name}`);
      owner[bit] = range.name;
    }
  }
  const missing = owner.flatMap((o, bit) => (o === undefined ? [bit] : []));
  if (missing.length > 0)
    f.at(
      p,
      path,
      `${p.name}.${field.name}: bits ${missing[0]}..${missing[missing.length - 1]} are not described; name them or mark them reserved`,
    );
}

export const bitfields: LintRule = {
  id: 'layout-bits',
  description: 'Bitfields fit their integer, do not overlap, and describe every bit (reserved ones explicitly).',
  check({ model }) {
    const f = new Findings(this.id, model);
    for (const p of structsOf(model)) {
      p.fields.forEach((field, i) => {
        if (field.bits) checkBits(f, p, field, field.bits, ['fields', i, 'bits']);
        field.views?.forEach((view, v) => checkBits(f, p, field, view.bits, ['fields', i, 'views', v, 'bits']));
      });
    }
    return f.issues;
  },
};

export const enumValues: LintRule = {
  id: 'enum-values',
  description: 'Enum values are unique; flag enums use single bits.',
  check({ model }) {
    const f = new Findings(this.id, model);
    for (const e of model.enums) {
      const seen = new Set<number>();
      e.values.forEach((v, i) => {
        if (seen.has(v.value)) f.at(e, ['values', i, 'value'], `${e.name}: value ${v.value} is used twice`);
        seen.add(v.value);
        if (e.kind === 'flags' && (v.value === 0 || (v.value & (v.value - 1)) !== 0))
          f.at(
            e,
            ['values', i, 'value'],
            `${e.name}.${v.name} is a flag, so its value must be a single bit (got ${v.value})`,
          );
      });
    }
    return f.issues;
  },
};
