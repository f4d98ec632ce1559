/**
 * fast-check arbitraries for every payload and message, built from generated/spec.json, so the
 * property tests cover whatever the spec defines without listing it again.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import * as generated from '@vhost-user/codec';

interface JsonField {
  name: string;
  type: string;
  offset: number;
  count?: number | { field: string; max: number };
  padding?: boolean;
}
interface JsonPayload {
  name: string;
  size: number | null;
  maxSize?: number;
  opaque?: boolean;
  fields: JsonField[];
  extension?: { protocolFeature: string; size: number; fields: JsonField[] };
}
interface JsonMessage {
  name: string;
  id: number;
  channel: 'frontend' | 'backend';
  request: string | null;
  replyRule: { kind: string; payload?: string | null };
  fds: { request: { rule: string }; reply: { rule: string } };
}
export interface SpecJson {
  payloads: JsonPayload[];
  messages: JsonMessage[];
  protocolFeatures: { name: string; bit: number }[];
}

export const spec: SpecJson = JSON.parse(
  readFileSync(new URL('../../../generated/spec.json', import.meta.url), 'utf8'),
);
const byName = new Map(spec.payloads.map((p) => [p.name, p]));

const camel = (s: string) => s.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());

const scalar: Record<string, fc.Arbitrary<number | bigint>> = {
  u8: fc.integer({ min: 0, max: 0xff }),
  u16: fc.integer({ min: 0, max: 0xffff }),
  u32: fc.integer({ min: 0, max: 0xffffffff }),
  u64: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
  i64: fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n }),
};

function fieldArbitrary(field: JsonField, ext: boolean, maxElements?: number): fc.Arbitrary<unknown> {
  const count = field.count;
  if (field.type === 'u8' && count !== undefined) {
    return typeof count === 'number'
      ? fc.uint8Array({ minLength: count, maxLength: count })
      : fc.uint8Array({ maxLength: Math.min(count.max, maxElements ?? count.max) });
  }
  const elem = scalar[field.type] ?? payloadArbitrary(field.type, ext);
  if (count === undefined) return elem;
  if (typeof count === 'number') return fc.array(elem, { minLength: count, maxLength: count });
  return fc.array(elem, { maxLength: Math.min(count.max, maxElements ?? count.max) });
}

const cache = new Map<string, fc.Arbitrary<unknown>>();

/** A TypeScript value of payload `name` (camelCase keys, count fields implied by arrays). */
export function payloadArbitrary(name: string, ext = false, maxElements = 64): fc.Arbitrary<unknown> {
  const key = `${name}/${ext}/${maxElements}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const payload = byName.get(name);
  if (!payload) throw new Error(`no payload ${name}`);
  let arb: fc.Arbitrary<unknown>;
  if (payload.opaque) arb = fc.record({ bytes: fc.uint8Array({ maxLength: payload.maxSize ?? 64 }) });
  else {
    const counters = new Set(payload.fields.flatMap((f) => (typeof f.count === 'object' ? [f.count.field] : [])));
    const shape: Record<string, fc.Arbitrary<unknown>> = {};
    for (const f of payload.fields)
      if (!f.padding && !counters.has(f.name)) shape[camel(f.name)] = fieldArbitrary(f, ext, maxElements);
    if (ext && payload.extension)
      for (const f of payload.extension.fields) shape[camel(f.name)] = fieldArbitrary(f, ext);
    arb = fc.record(shape);
  }
  cache.set(key, arb);
  return arb;
}

/** Whether a payload's layout changes with the extension (directly or through a nested struct). */
export function hasExtension(name: string, seen = new Set<string>()): boolean {
  const p = byName.get(name);
  if (!p || seen.has(name)) return false;
  seen.add(name);
  return p.extension !== undefined || p.fields.some((f) => hasExtension(f.type, seen));
}

/** Any request or reply of a channel, as an OutgoingMessage for encode(). */
export function messageArbitrary(
  channel: 'frontend' | 'backend',
): fc.Arbitrary<{ message: Record<string, unknown>; fds: number }> {
  const messages = spec.messages.filter((m) => m.channel === channel);
  return fc.oneof(
    ...messages.map((m) => {
      const request = (m.request ? payloadArbitrary(m.request, false, 4) : fc.constant(null)).map((payload) => ({
        message: { name: m.name, payload, needReply: false },
        fds: 0,
      }));
      const replyPayload =
        m.replyRule.kind === 'always' || m.replyRule.kind === 'conditional' ? m.replyRule.payload : null;
      // A reply body of 0 bytes reads as empty, and an 8-byte body of a variable payload (a memory
      // table with no region) as an ack: the wire cannot tell them apart, so such values are not
      // generated.
      const declared = replyPayload ? byName.get(replyPayload) : undefined;
      const codec = replyPayload
        ? (generated as unknown as Record<string, { sizeOf(v: unknown, ext: boolean): number }>)[`${replyPayload}Codec`]
        : undefined;
      const ambiguous = (payload: unknown) => {
        const size = codec?.sizeOf(payload, false) ?? 0;
        return size === 0 || (size === 8 && declared?.size !== 8);
      };
      const reply = replyPayload
        ? payloadArbitrary(replyPayload, false, 4)
            .filter((payload) => !ambiguous(payload))
            .map((payload) => ({ message: { kind: 'reply', name: m.name, payload }, fds: 0 }))
        : scalar.u64!.map((value) => ({
            message: { kind: 'reply', ack: true, name: m.name, payload: { value } },
            fds: 0,
          }));
      return fc.oneof(request, reply);
    }),
  );
}
