/** `vhost-user decode <hex>`: decodes pasted message bytes with the codec. */
import { decode, isVhostUserError, type Channel } from '@vhost-user/codec';
import { parse } from '../args.js';
import { UsageError } from '../errors.js';
import type { Io } from '../io.js';
import { describe, toJson, type AnyMessage } from '../trace/describe.js';

export const DECODE_HELP =
  'vhost-user decode <hex...> [--channel frontend|backend] [--fds N] [--json]   decode pasted message bytes';

/** Hex digits from pasted text: whitespace, `0x` prefixes, commas and colons are ignored. */
export function parseHex(text: string): Uint8Array {
  const digits = text.replace(/0x/gi, '').replace(/[\s,:]/g, '');
  if (!/^[0-9a-fA-F]*$/.test(digits))
    throw new UsageError('decode: the bytes must be hexadecimal digits (whitespace allowed)');
  if (digits.length % 2 !== 0) throw new UsageError(`decode: an odd number of hex digits (${digits.length})`);
  return Uint8Array.from(Buffer.from(digits, 'hex'));
}

export function runDecode(argv: string[], io: Io): number {
  const { values, positionals } = parse(
    argv,
    { channel: { type: 'string' }, fds: { type: 'string' }, json: { type: 'boolean' } },
    'decode',
  );
  const channel = (values.channel ?? 'frontend') as string;
  if (channel !== 'frontend' && channel !== 'backend')
    throw new UsageError('decode: --channel must be frontend or backend');
  if (positionals.length === 0) throw new UsageError('decode: give the message bytes as hex');
  const fds = values.fds === undefined ? undefined : Number(values.fds);
  if (fds !== undefined && (!Number.isInteger(fds) || fds < 0)) throw new UsageError('decode: --fds must be a count');
  const bytes = parseHex(positionals.join(' '));
  try {
    const message = decode(channel as Channel, bytes, fds === undefined ? {} : { fds }) as unknown as AnyMessage;
    io.out(values.json ? JSON.stringify(toJson(message, fds ?? 0)) : describe(message, fds ?? 0));
    return 0;
  } catch (error) {
    if (!isVhostUserError(error)) throw error;
    io.out(
      values.json
        ? JSON.stringify({
            error: error.code,
            message: error.message,
            messageName: error.messageName,
            offset: error.offset,
          })
        : `error ${error.code}: ${error.message}`,
    );
    return 1;
  }
}
