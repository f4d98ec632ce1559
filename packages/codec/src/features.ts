/** Feature masks as bigint bit sets: test, set, negotiate, and name the bits. */
import {
  DEVICE_FEATURE_NAMES,
  PROTOCOL_FEATURE_NAMES,
  PROTOCOL_FEATURE_REQUIRES,
  VIRTIO_FEATURE_NAMES,
} from './generated/protocol.js';

export function featureMask(...bits: number[]): bigint {
  return bits.reduce((mask, bit) => mask | (1n << BigInt(bit)), 0n);
}

export function hasFeature(mask: bigint, bit: number): boolean {
  return ((mask >> BigInt(bit)) & 1n) === 1n;
}

export function withFeature(mask: bigint, bit: number): bigint {
  return mask | (1n << BigInt(bit));
}

export function withoutFeature(mask: bigint, bit: number): bigint {
  return mask & ~(1n << BigInt(bit));
}

/** What both sides use: the bits the front-end wants among those the back-end offers. */
export function negotiate(offered: bigint, wanted: bigint): bigint {
  return offered & wanted;
}

/** The set bits of a mask, lowest first. */
export function featureBits(mask: bigint): number[] {
  const bits: number[] = [];
  for (let bit = 0; mask >> BigInt(bit) !== 0n; bit++) if (hasFeature(mask, bit)) bits.push(bit);
  return bits;
}

function names(mask: bigint, table: Readonly<Record<number, string>>): string[] {
  return featureBits(mask).map((bit) => table[bit] ?? `bit ${bit}`);
}

/** Names of the protocol feature bits set in `mask` (`bit N` for unknown bits). */
export function protocolFeatureNames(mask: bigint): string[] {
  return names(mask, PROTOCOL_FEATURE_NAMES);
}

/** Device types whose feature bits the spec data names. */
export type DeviceType = keyof typeof DEVICE_FEATURE_NAMES;

/**
 * Names of the virtio feature bits set in `mask` (`bit N` for unknown bits). Device-specific
 * bits (below 24 and from 50) mean different things per device: they are named when `device`
 * says which one.
 */
export function virtioFeatureNames(mask: bigint, device?: DeviceType): string[] {
  return names(mask, device ? { ...VIRTIO_FEATURE_NAMES, ...DEVICE_FEATURE_NAMES[device] } : VIRTIO_FEATURE_NAMES);
}

/** Protocol bits set in `mask` whose required bits are missing, with what is missing. */
export function missingRequirements(mask: bigint): { bit: number; missing: number[] }[] {
  return featureBits(mask).flatMap((bit) => {
    const missing = (PROTOCOL_FEATURE_REQUIRES[bit] ?? []).filter((req) => !hasFeature(mask, req));
    return missing.length > 0 ? [{ bit, missing }] : [];
  });
}
