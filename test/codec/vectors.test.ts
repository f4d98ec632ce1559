/**
 * Golden vectors (test/vectors/*.yaml): bytes computed by hand from the upstream C layouts,
 * never by this encoder. Each vector decodes to its object, and the object encodes to its bytes.
 */
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { decode, encode, type Channel } from '@vhost-user/codec';

interface Vector {
  name: string;
  kind: 'request' | 'reply';
  needReply?: boolean;
  ack?: boolean;
  fds: number;
  hex: string;
  payload: Record<string, unknown> | null;
  note?: string;
}

interface JsonField {
  name: string;
  type: string;
  count?: number | { field: string; max: number };
  padding?: boolean;
}
interface JsonPayload {
  name: string;
  opaque?: boolean;
  fields: JsonField[];
}
interface JsonMessage {
  name: string;
  channel: Channel;
  request: string | null;
  reply: string | null;
}
const spec = JSON.parse(readFileSync(new URL('../../generated/spec.json', import.meta.url), 'utf8')) as {
  payloads: JsonPayload[];
  messages: JsonMessage[];
};
const payloads = new Map(spec.payloads.map((p) => [p.name, p]));
const camel = (s: string) => s.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());

/** Vector values (spec names, 64-bit as strings, bytes as hex) -> the codec's TypeScript value. */
function toValue(type: string, raw: unknown, field?: JsonField): unknown {
  if (type === 'u64' || type === 'i64') {
    if (field?.count !== undefined) return (raw as string[]).map((v) => BigInt(v));
    return BigInt(raw as string);
  }
  if (type === 'u8' && field?.count !== undefined) return Uint8Array.from(Buffer.from(raw as string, 'hex'));
  if (['u8', 'u16', 'u32'].includes(type)) return raw;
  const payload = payloads.get(type);
  if (!payload) throw new Error(`unknown type ${type}`);
  if (field?.count !== undefined) return (raw as unknown[]).map((item) => toValue(type, item));
  if (payload.opaque) return { bytes: Uint8Array.from(Buffer.from((raw as { bytes: string }).bytes, 'hex')) };
  const counters = new Set(payload.fields.flatMap((f) => (typeof f.count === 'object' ? [f.count.field] : [])));
  const obj = raw as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const f of payload.fields) {
    if (f.padding || counters.has(f.name)) continue;
    if (!(f.name in obj)) throw new Error(`${type}.${f.name} missing in vector`);
    out[camel(f.name)] = toValue(f.type, obj[f.name], f);
  }
  return out;
}

function payloadType(channel: Channel, v: Vector): string | null {
  const m = spec.messages.find((x) => x.channel === channel && x.name === v.name);
  if (!m) throw new Error(`unknown message ${v.name}`);
  if (v.kind === 'request') return m.request;
  return v.ack ? 'U64' : (m.reply ?? 'U64');
}

for (const channel of ['frontend', 'backend'] as const) {
  const file = parse(readFileSync(new URL(`../vectors/${channel}.yaml`, import.meta.url), 'utf8')) as {
    vectors: Vector[];
  };
  describe(`${channel} golden vectors`, () => {
    it('cover every message of the channel', () => {
      const names = new Set(file.vectors.map((v) => v.name));
      expect(spec.messages.filter((m) => m.channel === channel && !names.has(m.name)).map((m) => m.name)).toEqual([]);
    });
    it.each(
      file.vectors.map((v, i) => ({
        ...v,
        label: `${i}: ${v.name} ${v.kind}${v.ack ? ' (ack)' : ''}${v.note ? ` — ${v.note}` : ''}`,
      })),
    )('$label', (v) => {
      const bytes = Uint8Array.from(Buffer.from(v.hex.replace(/\s+/g, ''), 'hex'));
      const type = payloadType(channel, v);
      const value = v.payload === null || type === null ? null : toValue(type, v.payload);
      const decoded = decode(channel, bytes, { fds: v.fds });
      expect(decoded).toMatchObject({ kind: v.kind, name: v.name });
      expect(decoded.payload).toEqual(value);
      if (v.kind === 'request')
        expect((decoded as unknown as { needReply: boolean }).needReply).toBe(v.needReply ?? false);
      else expect((decoded as unknown as { ack: boolean }).ack).toBe(v.ack ?? false);
      const message =
        v.kind === 'request'
          ? { name: v.name, payload: value, needReply: v.needReply }
          : { kind: 'reply', name: v.name, payload: value, ack: v.ack };
      expect(Buffer.from(encode(channel, message as never)).toString('hex')).toBe(Buffer.from(bytes).toString('hex'));
    });
  });
}
