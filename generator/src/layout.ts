/**
 * Byte layout arithmetic for payload structs: the size and alignment of each field type,
 * following C's rules, so lint can check that the offsets written in spec/ add up and the
 * generators can emit them.
 */
import type { SpecModel } from './load.js';
import { PRIMITIVE_SIZE, Primitive, type Field, type Payload } from './schema.js';

/** Every struct of a model: the payloads and the ring structs. */
export function structsOf(model: SpecModel): Payload[] {
  return [...model.payloads, ...model.rings.split.structs, ...model.rings.packed.structs];
}

/** Finds a struct of the model by name. */
export function lookupIn(model: SpecModel): StructLookup {
  const byName = new Map(structsOf(model).map((p) => [p.name, p]));
  return (name) => byName.get(name);
}

export function isPrimitive(type: string): type is Primitive {
  return Primitive.safeParse(type).success;
}

export interface TypeShape {
  size: number;
  align: number;
}

/** Finds a struct by name; nested structs come from payloads or ring structs. */
export type StructLookup = (name: string) => Payload | undefined;

/** Size and alignment of one element of a field's type; undefined if it cannot be known. */
export function elementShape(type: string, lookup: StructLookup, seen: Set<string> = new Set()): TypeShape | undefined {
  if (isPrimitive(type)) return { size: PRIMITIVE_SIZE[type], align: PRIMITIVE_SIZE[type] };
  const struct = lookup(type);
  if (!struct || struct.size === null || seen.has(type)) return undefined;
  seen.add(type);
  return { size: struct.size, align: structAlign(struct, lookup, seen) };
}

/** A struct's alignment: the largest alignment of its fields (1 for an empty one). */
export function structAlign(struct: Payload, lookup: StructLookup, seen: Set<string> = new Set()): number {
  let align = 1;
  for (const field of struct.fields) {
    const shape = elementShape(field.type, lookup, new Set(seen));
    if (shape) align = Math.max(align, shape.align);
  }
  return align;
}

export function isVariableCount(field: Field): boolean {
  return typeof field.count === 'object';
}

/** Number of elements of a fixed-size field (1 when not an array). */
export function fixedCount(field: Field): number {
  return typeof field.count === 'number' ? field.count : 1;
}

/** Largest element count a variable field allows. */
export function maxCount(field: Field): number {
  if (field.count === undefined) return 1;
  return typeof field.count === 'number' ? field.count : field.count.max;
}

/** Bytes a field occupies (for a variable field: the fixed part is 0, see maxBytes). */
export function fieldBytes(field: Field, lookup: StructLookup): number | undefined {
  const shape = elementShape(field.type, lookup);
  if (!shape) return undefined;
  return isVariableCount(field) ? 0 : shape.size * fixedCount(field);
}

/** Bit width of an integer field type. */
export function bitWidth(type: string): number | undefined {
  return isPrimitive(type) ? PRIMITIVE_SIZE[type] * 8 : undefined;
}

/** The payload's fixed part: everything before a trailing variable-length array. */
export function fixedPartSize(payload: Payload, lookup: StructLookup): number {
  let end = 0;
  for (const field of payload.fields) {
    if (isVariableCount(field)) return field.offset;
    end = field.offset + (fieldBytes(field, lookup) ?? 0);
  }
  return end;
}
