/** One readable line (or a JSON-safe object) per decoded vhost-user message. */
import { HEADER, type Channel } from '@vhost-user/codec';

/** A decoded message of either channel and kind, as the tracer handles it. */
export interface AnyMessage {
  channel: Channel;
  kind: 'request' | 'reply';
  id: number;
  name: string;
  flags: number;
  size: number;
  payload: unknown;
  ack?: boolean;
  needReply?: boolean;
}

/** Payload values made printable: bigints as hex, byte arrays as hex strings. */
export function plain(value: unknown): unknown {
  if (typeof value === 'bigint') return `0x${value.toString(16)}`;
  if (value instanceof Uint8Array) return Buffer.from(value).toString('hex');
  if (Array.isArray(value)) return value.map(plain);
  if (value && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  return value;
}

export function flagNames(flags: number): string[] {
  const names = [`v${flags & HEADER.versionMask}`];
  if (flags & HEADER.replyFlag) names.push('REPLY');
  if (flags & HEADER.needReplyFlag) names.push('NEED_REPLY');
  const reserved = (flags & HEADER.reservedMask) >>> 0;
  if (reserved) names.push(`reserved=0x${reserved.toString(16)}`);
  return names;
}

function fields(payload: unknown): string {
  if (payload === null || payload === undefined) return '';
  const p = plain(payload);
  if (p && typeof p === 'object' && !Array.isArray(p)) {
    return Object.entries(p)
      .map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`)
      .join(' ');
  }
  return JSON.stringify(p);
}

export function shortName(name: string): string {
  return name.replace(/^VHOST_USER_/, '');
}

/** `GET_VRING_BASE reply [v1 REPLY] index=0 num=12 fds=0` */
export function describe(message: AnyMessage, fds: number): string {
  const kind = message.kind === 'reply' ? (message.ack ? 'ack' : 'reply') : 'request';
  const body = fields(message.payload);
  return `${shortName(message.name)} ${kind} [${flagNames(message.flags).join(' ')}] size=${message.size}${body ? ` ${body}` : ''} fds=${fds}`;
}

export function toJson(message: AnyMessage, fds: number): Record<string, unknown> {
  return {
    name: message.name,
    id: message.id,
    kind: message.kind === 'reply' ? (message.ack ? 'ack' : 'reply') : 'request',
    flags: message.flags,
    flagNames: flagNames(message.flags),
    size: message.size,
    payload: plain(message.payload),
    fds,
  };
}
