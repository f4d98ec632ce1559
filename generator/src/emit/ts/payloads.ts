/**
 * Emits the codec's generated payloads.ts (packages/codec/src/generated/): for every payload an interface, a size constant, straight-line
 * encode/decode functions over a DataView, a zod schema and a PayloadCodec object; for every
 * bitfield pack/unpack helpers; for every enum a const object and its type.
 */
import type { SourceFile } from 'ts-morph';
import { elementShape, isPrimitive, type StructLookup } from '../../layout.js';
import type { SpecModel } from '../../load.js';
import { PRIMITIVE_SIZE, type BitRange, type EnumDef, type Field, type Payload, type Primitive } from '../../schema.js';
import { camelCase, screamingSnake } from '../names.js';
import { docComment, jsdoc, RUNTIME_MODULE, sourceOf } from './docs.js';

const TS_TYPE: Record<Primitive, string> = { u8: 'number', u16: 'number', u32: 'number', u64: 'bigint', i64: 'bigint' };
const GETTER: Record<Primitive, string> = {
  u8: 'getUint8',
  u16: 'getUint16',
  u32: 'getUint32',
  u64: 'getBigUint64',
  i64: 'getBigInt64',
};
const SETTER: Record<Primitive, string> = {
  u8: 'setUint8',
  u16: 'setUint16',
  u32: 'setUint32',
  u64: 'setBigUint64',
  i64: 'setBigInt64',
};

/** Whether a payload's size depends on the layout extension (directly or through a nested struct). */
export function usesExtension(payload: Payload, lookup: StructLookup, seen = new Set<string>()): boolean {
  if (payload.extension) return true;
  if (seen.has(payload.name)) return false;
  seen.add(payload.name);
  return payload.fields.some((f) => {
    const nested = isPrimitive(f.type) ? undefined : lookup(f.type);
    return nested ? usesExtension(nested, lookup, seen) : false;
  });
}

/** Size of a struct in bytes, with or without its extension; null when variable. */
function sizeExpr(payload: Payload, lookup: StructLookup): { plain: number | null; ext: number | null } {
  if (payload.size === null) return { plain: null, ext: null };
  const ext = payload.extension ? payload.extension.size : nestedExtSize(payload, lookup);
  return { plain: payload.size, ext };
}

function nestedExtSize(payload: Payload, lookup: StructLookup): number {
  let size = 0;
  for (const f of payload.fields) {
    const nested = isPrimitive(f.type) ? undefined : lookup(f.type);
    const elem = nested ? (sizeExpr(nested, lookup).ext ?? 0) : PRIMITIVE_SIZE[f.type as Primitive];
    size = f.offset + elem * (typeof f.count === 'number' ? f.count : 1);
  }
  return Math.max(size, payload.size ?? 0);
}

/** Fields a TypeScript value carries: padding and count fields are implied. */
function valueFields(payload: Payload): Field[] {
  const counters = new Set(
    payload.fields.flatMap((f) => (typeof f.count === 'object' && 'field' in f.count ? [f.count.field] : [])),
  );
  return payload.fields.filter((f) => !f.padding && !counters.has(f.name));
}

function fieldTsType(field: Field): string {
  if (isPrimitive(field.type)) {
    if (field.type === 'u8' && field.count !== undefined) return 'Uint8Array';
    const base = TS_TYPE[field.type];
    return field.count !== undefined ? `${base}[]` : base;
  }
  return field.count !== undefined ? `${field.type}[]` : field.type;
}

function fieldSchema(field: Field): string {
  if (isPrimitive(field.type)) {
    if (field.type === 'u8' && field.count !== undefined) {
      const max = typeof field.count === 'number' ? field.count : field.count.max;
      return typeof field.count === 'number'
        ? `s.bytes(${max}).refine((b) => b.length === ${max}, 'exactly ${max} bytes')`
        : `s.bytes(${max})`;
    }
    const base = `s.${field.type}`;
    if (field.count === undefined) return base;
    return typeof field.count === 'number'
      ? `z.array(${base}).length(${field.count})`
      : `z.array(${base}).max(${field.count.max})`;
  }
  const base = `${field.type}Schema`;
  if (field.count === undefined) return base;
  return typeof field.count === 'number'
    ? `z.array(${base}).length(${field.count})`
    : `z.array(${base}).max(${field.count.max})`;
}

function fieldDoc(payload: Payload, field: Field): string {
  const count =
    field.count === undefined
      ? ''
      : typeof field.count === 'number'
        ? `[${field.count}]`
        : `[${'field' in field.count ? field.count.field : field.count.param}]`;
  const where = `\`${field.name}\`: ${field.type}${count} at offset ${field.offset}`;
  const values = field.enum ? ` Values: {@link ${field.enum}}.` : '';
  const order = field.bigEndian ? ' Big-endian inside.' : '';
  return `${field.doc}${values}${order} (${where})`;
}

// -----------------------------------------------------------------------------------------------
// Statements of decode, encode and sizeOf

interface Ctx {
  payload: Payload;
  lookup: StructLookup;
  ext: boolean;
}

function nestedSize(type: string, ctx: Ctx): string {
  const nested = ctx.lookup(type);
  if (!nested) throw new Error(`unknown struct ${type}`);
  const sizes = sizeExpr(nested, ctx.lookup);
  if (sizes.plain === null) throw new Error(`${type} is variable and cannot be nested`);
  return usesExtension(nested, ctx.lookup) && sizes.ext !== sizes.plain
    ? `(ext ? ${sizes.ext} : ${sizes.plain})`
    : String(sizes.plain);
}

/** A decode expression for a scalar, byte array or nested struct (arrays of other types use loops). */
function decodeExpr(field: Field, ctx: Ctx, countVar?: string): string {
  const at = field.offset === 0 ? 'offset' : `offset + ${field.offset}`;
  if (isPrimitive(field.type)) {
    if (field.count === undefined)
      return field.type === 'u8' ? `view.getUint8(${at})` : `view.${GETTER[field.type]}(${at}, le)`;
    if (field.type === 'u8') return `copyBytes(view, ${at}, ${countVar ?? String(field.count)})`;
    return camelCase(field.name);
  }
  if (field.count === undefined) {
    const elem = nestedSize(field.type, ctx);
    return `decode${field.type}(view, ${at}, ${elem}, le, ext)`;
  }
  return camelCase(field.name);
}

/** Statements that fill a local array for an array field, with a plain loop (fast in V8). */
function decodeArrayStatements(field: Field, ctx: Ctx, countVar?: string): string[] {
  if (field.count === undefined || (isPrimitive(field.type) && field.type === 'u8')) return [];
  const at = field.offset === 0 ? 'offset' : `offset + ${field.offset}`;
  const n = countVar ?? String(field.count);
  const local = camelCase(field.name);
  if (isPrimitive(field.type)) {
    const size = PRIMITIVE_SIZE[field.type];
    return [
      `const ${local}: ${TS_TYPE[field.type]}[] = new Array(${n});`,
      `for (let i = 0; i < ${n}; i++) ${local}[i] = view.${GETTER[field.type]}(${at} + i * ${size}, le);`,
    ];
  }
  const elem = nestedSize(field.type, ctx);
  return [
    `const ${local}: ${field.type}[] = new Array(${n});`,
    `for (let i = 0; i < ${n}; i++) ${local}[i] = decode${field.type}(view, ${at} + i * ${elem}, ${elem}, le, ext);`,
  ];
}

function encodeStatements(field: Field, ctx: Ctx, valueRef: string, countFields: Map<string, Field>): string[] {
  const at = field.offset === 0 ? 'offset' : `offset + ${field.offset}`;
  const label = `'${ctx.payload.name}.${field.name}'`;
  if (field.padding) {
    const bytes = elementShape(field.type, ctx.lookup)!.size * (typeof field.count === 'number' ? field.count : 1);
    return [`zeroBytes(view, ${at}, ${bytes});`];
  }
  const counted = countFields.get(field.name);
  if (counted)
    return [`view.${SETTER[field.type as Primitive]}(${at}, ${valueRef}.${camelCase(counted.name)}.length, le);`];
  if (isPrimitive(field.type)) {
    const size = PRIMITIVE_SIZE[field.type];
    const v = `${valueRef}.${camelCase(field.name)}`;
    if (field.count === undefined) {
      const check =
        field.type === 'u64'
          ? `checkU64(${v}, ${label});`
          : field.type === 'i64'
            ? `checkI64(${v}, ${label});`
            : `checkUint(${v}, ${size * 8}, ${label});`;
      return [
        check,
        field.type === 'u8' ? `view.setUint8(${at}, ${v});` : `view.${SETTER[field.type]}(${at}, ${v}, le);`,
      ];
    }
    const max = typeof field.count === 'number' ? field.count : field.count.max;
    if (field.type === 'u8')
      return [`writeBytes(view, ${at}, ${v}, ${typeof field.count === 'number' ? max : `${v}.length`}, ${label});`];
    const lines = typeof field.count === 'number' ? [`checkCount(${v}.length, ${max}, ${label});`] : [];
    const check =
      field.type === 'u64'
        ? `checkU64(item, ${label})`
        : field.type === 'i64'
          ? `checkI64(item, ${label})`
          : `checkUint(item, ${size * 8}, ${label})`;
    // Plain loops, not forEach: no closure per call, so encoding stays allocation-free.
    return [
      ...lines,
      `for (let i = 0; i < ${v}.length; i++) { const item = ${v}[i] as ${TS_TYPE[field.type]}; ${check}; view.${SETTER[field.type]}(${at} + i * ${size}, item, le); }`,
    ];
  }
  const elem = nestedSize(field.type, ctx);
  const v = `${valueRef}.${camelCase(field.name)}`;
  if (field.count === undefined) return [`encode${field.type}(view, ${at}, ${v}, le, ext);`];
  const lines =
    typeof field.count === 'number'
      ? [`checkCount(${v}.length, ${field.count}, '${ctx.payload.name}.${field.name}');`]
      : [];
  return [
    ...lines,
    `for (let i = 0; i < ${v}.length; i++) encode${field.type}(view, ${at} + i * ${elem}, ${v}[i] as ${field.type}, le, ext);`,
  ];
}

function emitPayload(file: SourceFile, payload: Payload, lookup: StructLookup, model: SpecModel): void {
  const name = payload.name;
  const sizes = sizeExpr(payload, lookup);
  const extended = usesExtension(payload, lookup);
  const ctx: Ctx = { payload, lookup, ext: extended };
  const SIZE = `${screamingSnake(name)}_SIZE`;
  const source = sourceOf(model, payload);

  // Interface
  if (payload.opaque) {
    file.addInterface({
      name,
      isExported: true,
      docs: [docComment(`${payload.title}.\n\n${payload.doc}`, source, payload.since)],
      properties: [{ name: 'bytes', type: 'Uint8Array', docs: ['The payload bytes, uninterpreted.'] }],
    });
  } else {
    const extFields = payload.extension?.fields ?? [];
    file.addInterface({
      name,
      isExported: true,
      docs: [docComment(`${payload.title}.\n\n${payload.doc}`, source, payload.since)],
      properties: [
        ...valueFields(payload).map((f) => ({
          name: camelCase(f.name),
          type: fieldTsType(f),
          docs: [fieldDoc(payload, f)],
        })),
        ...extFields.map((f) => ({
          name: camelCase(f.name),
          type: fieldTsType(f),
          hasQuestionToken: true,
          docs: [`${fieldDoc(payload, f)} Present only with ${payload.extension?.protocolFeature}.`],
        })),
      ],
    });
  }

  // Size constants
  const maxSize = sizes.ext ?? payload.maxSize ?? sizes.plain ?? 0;
  const maxWithExt = extended && payload.size === null ? variableMax(payload, lookup, true) : maxSize;
  if (payload.size !== null) {
    file.addStatements(
      `/** Bytes of ${name} on the wire${sizes.ext !== sizes.plain ? ` (${sizes.ext} with the layout extension)` : ''}. */\nexport const ${SIZE} = ${payload.size};`,
    );
  } else {
    file.addStatements(
      `/** Largest ${name} the rules allow, in bytes${extended ? ' (with the layout extension)' : ''}. */\nexport const ${screamingSnake(name)}_MAX_SIZE = ${maxWithExt};`,
    );
  }

  // decode / encode / sizeOf
  const counterFields = new Map<string, Field>();
  for (const f of payload.fields)
    if (typeof f.count === 'object' && 'field' in f.count) counterFields.set(f.count.field, f);
  // Every codec takes the extension flag, so all share one signature (and nested calls pass it on).
  const extParam = { name: 'ext', initializer: 'false' };

  let decodeBody: string[];
  let encodeBody: string[];
  let sizeOfBody: string;
  if (payload.opaque) {
    const max = payload.maxSize ?? 0;
    decodeBody = [
      `if (length > ${max}) throw new VhostUserError('BAD_SIZE', \`${name} is at most ${max} bytes, got \${length}\`, { offset });`,
      `return { bytes: copyBytes(view, offset, length) };`,
    ];
    encodeBody = [`writeBytes(view, offset, value.bytes, value.bytes.length, '${name}.bytes');`];
    sizeOfBody = `return value.bytes.length;`;
  } else if (payload.size !== null) {
    const sizeCheck =
      sizes.ext !== sizes.plain ? `const size = ext ? ${sizes.ext} : ${sizes.plain};` : `const size = ${sizes.plain};`;
    const props = valueFields(payload).map((f) => `${camelCase(f.name)}: ${decodeExpr(f, ctx)},`);
    const extProps = (payload.extension?.fields ?? []).map(
      (f) => `value.${camelCase(f.name)} = ${decodeExpr(f, ctx)};`,
    );
    decodeBody = [
      sizeCheck,
      `if (length !== size) throw new VhostUserError('BAD_SIZE', \`${name} is \${size} bytes, got \${length}\`, { offset });`,
      ...valueFields(payload).flatMap((f) => decodeArrayStatements(f, ctx)),
      extProps.length > 0 ? `const value: ${name} = {` : `return {`,
      ...props,
      `};`,
      ...(extProps.length > 0 ? [`if (ext) {`, ...extProps, `}`, `return value;`] : []),
    ];
    encodeBody = payload.fields.flatMap((f) => encodeStatements(f, ctx, 'value', counterFields));
    if (payload.extension) {
      encodeBody.push(`if (ext) {`);
      for (const f of payload.extension.fields) {
        const at = `offset + ${f.offset}`;
        encodeBody.push(
          `checkUint(value.${camelCase(f.name)} ?? 0, ${PRIMITIVE_SIZE[f.type as Primitive] * 8}, '${name}.${f.name}');`,
        );
        encodeBody.push(`view.${SETTER[f.type as Primitive]}(${at}, value.${camelCase(f.name)} ?? 0, le);`);
      }
      encodeBody.push(`}`);
    }
    sizeOfBody = sizes.ext !== sizes.plain ? `return ext ? ${sizes.ext} : ${sizes.plain};` : `return ${sizes.plain};`;
  } else {
    // Variable: the last field is an array counted by an earlier field.
    const last = payload.fields[payload.fields.length - 1] as Field;
    const count = last.count as { field: string; max: number };
    const counter = payload.fields.find((f) => f.name === count.field) as Field;
    const fixed = last.offset;
    const elem = isPrimitive(last.type) ? String(PRIMITIVE_SIZE[last.type]) : nestedSize(last.type, ctx);
    const props = valueFields(payload).map(
      (f) => `${camelCase(f.name)}: ${decodeExpr(f, ctx, f === last ? 'count' : undefined)},`,
    );
    decodeBody = [
      `if (length < ${fixed}) throw new VhostUserError('TRUNCATED', \`${name} needs at least ${fixed} bytes, got \${length}\`, { offset });`,
      `const count = ${decodeExpr(counter, ctx)};`,
      `if (count > ${count.max}) throw new VhostUserError('COUNT_TOO_LARGE', \`${name}.${count.field} is \${count}, at most ${count.max} allowed\`, { offset: offset + ${counter.offset} });`,
      `const size = ${fixed} + count * ${elem};`,
      `if (length !== size) throw new VhostUserError('BAD_SIZE', \`${name} with ${count.field} \${count} is \${size} bytes, got \${length}\`, { offset });`,
      ...valueFields(payload).flatMap((f) => decodeArrayStatements(f, ctx, f === last ? 'count' : undefined)),
      `return {`,
      ...props,
      `};`,
    ];
    encodeBody = [
      `if (value.${camelCase(last.name)}.length > ${count.max}) throw new VhostUserError('COUNT_TOO_LARGE', \`${name}.${last.name} has \${value.${camelCase(last.name)}.length} elements, at most ${count.max} allowed\`);`,
      ...payload.fields.flatMap((f) => encodeStatements(f, ctx, 'value', counterFields)),
    ];
    sizeOfBody = `return ${fixed} + value.${camelCase(last.name)}.length * ${elem};`;
  }

  file.addFunction({
    name: `decode${name}`,
    isExported: true,
    docs: [`Decodes a ${name} of exactly \`length\` bytes at \`offset\`; throws VhostUserError on a size mismatch.`],
    parameters: [
      { name: 'view', type: 'DataView' },
      { name: 'offset', type: 'number' },
      { name: 'length', type: 'number' },
      { name: 'le', type: 'boolean' },
      extParam,
    ],
    returnType: name,
    statements: decodeBody,
  });
  file.addFunction({
    name: `encode${name}`,
    isExported: true,
    docs: [`Writes a ${name} at \`offset\`; \`view\` must hold sizeOf${name}(value) bytes from there.`],
    parameters: [
      { name: 'view', type: 'DataView' },
      { name: 'offset', type: 'number' },
      { name: 'value', type: name },
      { name: 'le', type: 'boolean' },
      extParam,
    ],
    returnType: 'void',
    statements: encodeBody.length > 0 ? encodeBody : ['void view; void offset; void value; void le;'],
  });
  file.addFunction({
    name: `sizeOf${name}`,
    isExported: true,
    docs: [`Bytes a ${name} takes on the wire.`],
    parameters: [{ name: payload.size === null ? 'value' : '_value', type: name }, extParam],
    returnType: 'number',
    statements: [sizeOfBody],
  });

  // zod schema
  const schemaProps = payload.opaque
    ? [`bytes: s.bytes(${payload.maxSize ?? 0}),`]
    : [
        ...valueFields(payload).map((f) => `${camelCase(f.name)}: ${fieldSchema(f)},`),
        ...(payload.extension?.fields ?? []).map((f) => `${camelCase(f.name)}: ${fieldSchema(f)}.optional(),`),
      ];
  file.addStatements(
    `/** Validates a ${name} value before encoding. */\nexport const ${name}Schema: z.ZodType<${name}> = z.object({\n${schemaProps.join('\n')}\n}) as z.ZodType<${name}>;`,
  );

  file.addStatements(
    `/** Codec of ${name}, for the message tables. */\nexport const ${name}Codec: PayloadCodec<${name}> = {\n` +
      `name: '${name}',\nsize: ${payload.size === null ? 'null' : payload.size},\nmaxSize: ${payload.size === null ? maxWithExt : maxSize},\n` +
      `decode: decode${name},\nencode: encode${name},\nsizeOf: sizeOf${name},\nschema: ${name}Schema,\n};`,
  );

  for (const field of payload.fields) {
    if (field.bits) emitBits(file, payload, field, field.bits, `${name}${pascal(field.name)}`);
    for (const view of field.views ?? [])
      emitBits(file, payload, field, view.bits, `${name}${pascal(field.name)}${pascal(view.name)}`, view.when);
  }
}

function variableMax(payload: Payload, lookup: StructLookup, ext: boolean): number {
  const last = payload.fields[payload.fields.length - 1] as Field;
  const max = typeof last.count === 'object' ? last.count.max : 1;
  let elem: number;
  if (isPrimitive(last.type)) elem = PRIMITIVE_SIZE[last.type];
  else {
    const nested = lookup(last.type) as Payload;
    const s = sizeExpr(nested, lookup);
    elem = (ext ? s.ext : s.plain) ?? 0;
  }
  return last.offset + max * elem;
}

function pascal(snake: string): string {
  const c = camelCase(snake);
  return c.charAt(0).toUpperCase() + c.slice(1);
}

/** pack/unpack helpers for the named bits of one integer field. */
function emitBits(
  file: SourceFile,
  payload: Payload,
  field: Field,
  bits: BitRange[],
  typeName: string,
  when?: string,
): void {
  const wide = field.type === 'u64' || field.type === 'i64';
  const named = bits.filter((b) => !b.reserved);
  const tsType = (b: BitRange) => (b.width === 1 ? 'boolean' : wide && b.width > 32 ? 'bigint' : 'number');
  file.addInterface({
    name: typeName,
    isExported: true,
    docs: [`The bits of ${payload.name}.${field.name}${when ? ` (${when})` : ''}.`],
    properties: named.map((b) => ({
      name: camelCase(b.name),
      type: tsType(b),
      docs: [`${b.doc ?? b.name} (bits ${b.lsb}..${b.lsb + b.width - 1})`],
    })),
  });
  const raw = wide ? 'bigint' : 'number';
  const unpack = named.map((b) => {
    const mask = wide ? `${((1n << BigInt(b.width)) - 1n).toString()}n` : `0x${(2 ** b.width - 1).toString(16)}`;
    const shifted = wide ? `(raw >> ${b.lsb}n) & ${mask}` : `(raw >>> ${b.lsb}) & ${mask}`;
    if (b.width === 1) return `${camelCase(b.name)}: (${shifted}) !== ${wide ? '0n' : '0'},`;
    if (wide && b.width <= 32) return `${camelCase(b.name)}: Number(${shifted}),`;
    return `${camelCase(b.name)}: ${shifted},`;
  });
  file.addFunction({
    name: `unpack${typeName}`,
    isExported: true,
    docs: [`Splits a raw ${payload.name}.${field.name} into its named bits; reserved bits are dropped.`],
    parameters: [{ name: 'raw', type: raw }],
    returnType: typeName,
    statements: [`return {`, ...unpack, `};`],
  });
  const pack = named.map((b) => {
    const v = `bits.${camelCase(b.name)}`;
    const max = (1n << BigInt(b.width)) - 1n;
    if (wide) {
      const asBig = b.width === 1 ? `(${v} ? 1n : 0n)` : tsType(b) === 'bigint' ? v : `BigInt(${v})`;
      return [
        b.width === 1
          ? ''
          : `if (${asBig} < 0n || ${asBig} > ${max}n) throw new VhostUserError('INVALID_VALUE', \`${typeName}.${camelCase(b.name)} must fit in ${b.width} bits\`);`,
        `raw |= ${asBig} << ${b.lsb}n;`,
      ].filter(Boolean);
    }
    const asNum = b.width === 1 ? `(${v} ? 1 : 0)` : v;
    return [
      b.width === 1
        ? ''
        : `if (!Number.isInteger(${asNum}) || ${asNum} < 0 || ${asNum} > ${max}) throw new VhostUserError('INVALID_VALUE', \`${typeName}.${camelCase(b.name)} must fit in ${b.width} bits\`);`,
      b.lsb + b.width === 32 ? `raw = (raw | (${asNum} << ${b.lsb})) >>> 0;` : `raw |= ${asNum} << ${b.lsb};`,
    ].filter(Boolean);
  });
  file.addFunction({
    name: `pack${typeName}`,
    isExported: true,
    docs: [`Builds a raw ${payload.name}.${field.name} from its named bits; reserved bits are zero.`],
    parameters: [{ name: 'bits', type: typeName }],
    returnType: raw,
    statements: [wide ? 'let raw = 0n;' : 'let raw = 0;', ...pack.flat(), wide ? 'return raw;' : 'return raw >>> 0;'],
  });
}

function emitEnum(file: SourceFile, e: EnumDef, model: SpecModel): void {
  const source = sourceOf(model, e);
  file.addStatements(
    `${jsdoc(docComment(`${e.title} (${e.kind === 'flags' ? 'bit flags that combine' : 'one value'}).${e.doc ? `\n\n${e.doc}` : ''}`, source, e.since))}\nexport const ${e.name} = {\n` +
      e.values
        .map((v) => `/** ${v.doc} */\n${v.name}: ${e.kind === 'flags' ? `0x${v.value.toString(16)}` : v.value},`)
        .join('\n') +
      `\n} as const;\nexport type ${e.name} = (typeof ${e.name})[keyof typeof ${e.name}];`,
  );
}

/** Payloads in dependency order: nested structs before the structs that contain them. */
function ordered(payloads: Payload[], lookup: StructLookup): Payload[] {
  const out: Payload[] = [];
  const done = new Set<string>();
  const visit = (p: Payload): void => {
    if (done.has(p.name)) return;
    done.add(p.name);
    for (const f of p.fields) {
      const nested = isPrimitive(f.type) ? undefined : lookup(f.type);
      if (nested) visit(nested);
    }
    out.push(p);
  };
  payloads.forEach(visit);
  return out;
}

export function emitPayloads(file: SourceFile, model: SpecModel, lookup: StructLookup): void {
  file.addImportDeclaration({
    moduleSpecifier: RUNTIME_MODULE,
    namedImports: [
      'VhostUserError',
      'checkCount',
      'checkI64',
      'checkU64',
      'checkUint',
      'copyBytes',
      'writeBytes',
      'zeroBytes',
      's',
      'z',
      { name: 'PayloadCodec', isTypeOnly: true },
    ],
  });
  for (const e of model.enums) emitEnum(file, e, model);
  for (const payload of ordered(model.payloads, lookup)) emitPayload(file, payload, lookup, model);
}
