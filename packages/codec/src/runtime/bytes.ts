/**
 * Byte-level helpers shared by the generated encoders and decoders. Generated code checks a
 * payload's size once, then reads with straight-line DataView calls; these helpers are for the
 * checks and for the few non-scalar fields.
 */
import { VhostUserError } from './errors.js';

/** Byte order of every integer in the header and payloads. The spec says "native"; every
 *  deployed host is little-endian, which is the default everywhere in this package. */
export type ByteOrder = 'little' | 'big';

export function viewOf(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Throws TRUNCATED unless `view` holds `needed` bytes from `offset`. */
export function requireBytes(view: DataView, offset: number, needed: number, what: string): void {
  if (offset < 0 || offset + needed > view.byteLength) {
    throw new VhostUserError(
      'TRUNCATED',
      `${what} needs ${needed} bytes, ${Math.max(0, view.byteLength - offset)} available`,
      { offset },
    );
  }
}

/** A copy of `length` bytes, so decoded values never alias the caller's buffer. */
export function copyBytes(view: DataView, offset: number, length: number): Uint8Array {
  // TypedArray.prototype.slice; ArrayBuffer.prototype.slice is over ten times slower in V8.
  return new Uint8Array(view.buffer, view.byteOffset + offset, length).slice();
}

/** Writes `bytes` (zero-padded or refused when too long) into `length` bytes at `offset`. */
export function writeBytes(view: DataView, offset: number, bytes: Uint8Array, length: number, what: string): void {
  if (bytes.length > length)
    throw new VhostUserError('INVALID_VALUE', `${what} takes at most ${length} bytes, got ${bytes.length}`);
  // Byte by byte through the view: payload byte arrays are small (at most 256), and the
  // encoders stay allocation-free.
  for (let i = 0; i < bytes.length; i++) view.setUint8(offset + i, bytes[i] as number);
  for (let i = bytes.length; i < length; i++) view.setUint8(offset + i, 0);
}

/** Zeroes `length` bytes at `offset` (padding) without creating a view: encoders allocate nothing. */
export function zeroBytes(view: DataView, offset: number, length: number): void {
  for (let i = 0; i < length; i++) view.setUint8(offset + i, 0);
}

const U64_MAX = (1n << 64n) - 1n;

/** Range checks used by encoders before they write, so no value is silently truncated. */
export function checkUint(value: number, bits: 8 | 16 | 32, what: string): void {
  // An integer in range survives the unsigned conversion unchanged; fractions, negatives,
  // NaN, too-large numbers and non-numbers do not. One compare, so V8 keeps it inline.
  const fits = bits === 32 ? value >>> 0 === value : (value & ((1 << bits) - 1)) === value;
  if (!fits) {
    throw new VhostUserError(
      'INVALID_VALUE',
      `${what} must be an integer from 0 to ${2 ** bits - 1}, got ${String(value)}`,
    );
  }
}

export function checkU64(value: bigint, what: string): void {
  if (typeof value !== 'bigint' || value < 0n || value > U64_MAX) {
    throw new VhostUserError('INVALID_VALUE', `${what} must be a bigint from 0 to 2^64-1, got ${String(value)}`);
  }
}

export function checkI64(value: bigint, what: string): void {
  if (typeof value !== 'bigint' || value < -(1n << 63n) || value >= 1n << 63n) {
    throw new VhostUserError('INVALID_VALUE', `${what} must be a signed 64-bit bigint, got ${String(value)}`);
  }
}

export function checkCount(actual: number, expected: number, what: string): void {
  if (actual !== expected)
    throw new VhostUserError('INVALID_VALUE', `${what} has ${actual} element(s) but the count field says ${expected}`);
}
