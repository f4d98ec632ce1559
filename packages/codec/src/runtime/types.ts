/**
 * The narrow interface between generated code and the hand-written codec: how a payload is
 * encoded and decoded, and what the spec says about each message.
 */
import type { z } from 'zod';

/** Encoder and decoder of one payload struct. `ext` selects the layout extension (e.g. the
 *  Xen fields of a memory region when VHOST_USER_PROTOCOL_F_XEN_MMAP is negotiated). */
export interface PayloadCodec<T> {
  readonly name: string;
  /** Bytes on the wire, or null when it depends on a count field. */
  readonly size: number | null;
  /** The largest size the rules allow. */
  readonly maxSize: number;
  /** Decodes exactly `length` bytes at `offset`; throws VhostUserError on any mismatch. */
  decode(view: DataView, offset: number, length: number, littleEndian: boolean, ext: boolean): T;
  /** Bytes `value` takes on the wire. */
  sizeOf(value: T, ext: boolean): number;
  /** Writes `value` at `offset`; the caller provides sizeOf(value) bytes. */
  encode(view: DataView, offset: number, value: T, littleEndian: boolean, ext: boolean): void;
  /** Validates a value before encoding (ranges, array lengths). */
  readonly schema: z.ZodType<T>;
}

export type ReplyKind = 'always' | 'ack' | 'conditional' | 'none';

export type FdRule =
  | 'none'
  | 'one'
  | 'one-per-region'
  | 'one-unless-invalid-fd'
  | 'one-if-feature'
  | 'one-on-success'
  | 'none-tolerate-one'
  | 'up-to-eight';

export interface FdRuleInfo {
  readonly rule: FdRule;
  /** Bit number of the protocol feature the rule depends on, if any. */
  readonly protocolFeature?: number;
}

export interface MessageInfo {
  readonly name: string;
  readonly id: number;
  readonly channel: 'frontend' | 'backend';
  readonly request: PayloadCodec<unknown> | null;
  readonly reply: {
    readonly kind: ReplyKind;
    readonly payload: PayloadCodec<unknown> | null;
    /** For conditional replies: the protocol feature bit that turns the reply on. */
    readonly protocolFeature?: number;
    /** How a refusal reads in the body: `field` (a u64) non-zero, in the bits of `mask` if given.
     *  Absent: an empty body is the refusal (acks refuse with a non-zero status). */
    readonly refusal?: { readonly nonzero: string; readonly mask?: bigint };
  };
  readonly fds: { readonly request: FdRuleInfo; readonly reply: FdRuleInfo };
  /** Protocol feature bits that must be negotiated before the message is sent. */
  readonly protocolFeatures: readonly number[];
  /** Virtio feature bits that gate the message. */
  readonly virtioFeatures: readonly number[];
  readonly since: string;
  readonly status: 'stable' | 'deprecated' | 'reserved' | 'proposed';
  /** For fd rule one-unless-invalid-fd: whether the decoded payload has its invalid-fd bit set. */
  readonly invalidFd?: (payload: unknown) => boolean;
  /** For fd rule one-per-region: how many regions the decoded payload lists. */
  readonly regionCount?: (payload: unknown) => number;
}
