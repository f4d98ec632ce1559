/**
 * The shape of every YAML file in a spec folder, as zod schemas.
 *
 * These schemas check one file at a time (types, required keys, enum values). Rules that
 * span files (references resolve, offsets add up, numbers are unique, releases agree) are
 * lint rules in `lint/`, because they need the whole model.
 */
import { z } from 'zod';

/** `VHOST_USER_FOO`, `VHOST_USER_BACKEND_FOO`, `VHOST_USER_PROTOCOL_F_FOO`, ... */
export const ConstantName = z.string().regex(/^[A-Z][A-Z0-9_]*$/, 'must be an UPPER_SNAKE_CASE constant name');
/** Payload, struct and enum names: `VringAddr`. */
export const TypeName = z.string().regex(/^[A-Z][A-Za-z0-9]*$/, 'must be a PascalCase type name');
/** Field names: `guest_address`. */
export const FieldName = z.string().regex(/^[a-z][a-z0-9_]*$/, 'must be a lower_snake_case field name');
/** A release number (`1.0`) or `draft` for what is not released yet. */
export const Version = z.string().regex(/^(\d+\.\d+|draft)$/, 'must be a release number such as "1.2", or "draft"');

export const Status = z.enum(['stable', 'deprecated', 'reserved', 'proposed']);
export type Status = z.infer<typeof Status>;

export const Implementation = z.enum([
  'qemu',
  'libvhost-user',
  'rust-vmm',
  'dpdk',
  'crosvm',
  'cloud-hypervisor',
  'spec-text',
]);

/** A place where an implementation (or the upstream text itself) does not do what the spec says. */
export const Divergence = z.strictObject({
  implementations: z.array(Implementation).min(1),
  summary: z.string().min(10),
  links: z.array(z.url()).min(1),
});
export type Divergence = z.infer<typeof Divergence>;

// ---------------------------------------------------------------------------------------------
// spec.yaml

export const Release = z.strictObject({
  version: Version,
  date: z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}$/)
    .optional(),
  summary: z.string(),
  /** Which upstream versions implement (about) this release. */
  corresponds: z.record(z.string(), z.string()),
});

export const SpecMeta = z.strictObject({
  title: z.string(),
  version: Version,
  status: z.enum(['draft', 'frozen']),
  /** The release the draft was started from; null for the first. */
  previous: Version.nullable(),
  release: Release,
  /** Chapter files under prose/, in reading order. */
  prose: z.array(z.string().regex(/^[a-z0-9-]+\.md$/)).min(1),
});
export type SpecMeta = z.infer<typeof SpecMeta>;

// ---------------------------------------------------------------------------------------------
// Payload layouts

export const Primitive = z.enum(['u8', 'u16', 'u32', 'u64', 'i64']);
export type Primitive = z.infer<typeof Primitive>;

/** What C or Rust spellings of an integer type mean here, for the error message. */
function primitiveHint(text: string): string {
  const m = /^(?:u?int|uint|i|u)(8|16|32|64)(?:_t)?$/i.exec(text);
  if (!m) return '';
  const signed = /^(?:int|i)/i.test(text) && !/^uint/i.test(text);
  const guess = `${signed && m[1] === '64' ? 'i' : 'u'}${m[1]}`;
  return `; did you mean ${guess}?`;
}

/** A field's type: a primitive, or the PascalCase name of another payload (a nested struct). */
export const FieldType = z.string().superRefine((text, ctx) => {
  if ((Primitive.options as readonly string[]).includes(text) || /^[A-Z][A-Za-z0-9]*$/.test(text)) return;
  ctx.addIssue({
    code: 'custom',
    message: `"${text}" is not a type: use one of ${Primitive.options.join(', ')}, or the PascalCase name of a payload${primitiveHint(text)}`,
  });
});
export const PRIMITIVE_SIZE: Record<Primitive, number> = { u8: 1, u16: 2, u32: 4, u64: 8, i64: 8 };

/** A named run of bits inside an integer field. */
export const BitRange = z.strictObject({
  name: FieldName,
  lsb: z.number().int().min(0).max(63),
  width: z.number().int().min(1).max(64),
  reserved: z.boolean().optional(),
  doc: z.string().optional(),
});
export type BitRange = z.infer<typeof BitRange>;

/** One way to read an integer field's bits; a field can have several (split vs packed rings). */
export const BitView = z.strictObject({
  name: FieldName,
  when: z.string().optional(),
  bits: z.array(BitRange).min(1),
});
export type BitView = z.infer<typeof BitView>;

/** How many elements an array field has: a fixed number, or the value of an earlier field. */
export const Count = z.union([
  z.number().int().min(1),
  z.strictObject({
    field: FieldName,
    max: z.number().int().min(1),
  }),
  /** Sized by a parameter that is not in the struct (a ring's queue size). */
  z.strictObject({
    param: FieldName,
    max: z.number().int().min(1),
  }),
]);
export type Count = z.infer<typeof Count>;

export const Field = z.strictObject({
  name: FieldName,
  /** A primitive, or the name of another payload used as a nested struct. */
  type: FieldType,
  offset: z.number().int().min(0),
  count: Count.optional(),
  /** Padding: the sender writes zero, the receiver ignores it. */
  padding: z.boolean().optional(),
  /** Values are one of this enum's. */
  enum: TypeName.optional(),
  /** Multi-byte integers of this field are big-endian whatever the message byte order is. */
  bigEndian: z.boolean().optional(),
  bits: z.array(BitRange).optional(),
  views: z.array(BitView).optional(),
  /** The field's name in QEMU's C structs, where it differs. */
  cName: z.string().optional(),
  doc: z.string(),
});
export type Field = z.infer<typeof Field>;

/** Fields appended to a struct only when a protocol feature is negotiated. */
export const Extension = z.strictObject({
  protocolFeature: ConstantName,
  size: z.number().int().min(1),
  fields: z.array(Field).min(1),
});

export const Payload = z.strictObject({
  name: TypeName,
  title: z.string(),
  /** Total bytes on the wire; null when it depends on a count field. */
  size: z.number().int().min(0).nullable(),
  /** For variable-size payloads: the largest size the rule allows. */
  maxSize: z.number().int().min(1).optional(),
  /** The layout is not defined by the spec: carried as raw bytes. */
  opaque: z.boolean().optional(),
  cName: z.string().optional(),
  fields: z.array(Field),
  extension: Extension.optional(),
  since: Version,
  doc: z.string(),
  divergences: z.array(Divergence).optional(),
});
export type Payload = z.infer<typeof Payload>;

export const EnumValue = z.strictObject({
  name: ConstantName,
  value: z.number().int().min(0),
  doc: z.string(),
});
export const EnumDef = z.strictObject({
  name: TypeName,
  title: z.string(),
  /** `value`: one of the values; `flags`: values are bit masks that combine. */
  kind: z.enum(['value', 'flags']),
  values: z.array(EnumValue).min(1),
  since: Version,
  doc: z.string().optional(),
  divergences: z.array(Divergence).optional(),
});
export type EnumDef = z.infer<typeof EnumDef>;

export const PayloadFile = z.strictObject({
  payloads: z.array(Payload).optional(),
  enums: z.array(EnumDef).optional(),
});

// ---------------------------------------------------------------------------------------------
// Header

export const HeaderFile = z.strictObject({
  size: z.literal(12),
  byteOrder: z.string(),
  fields: z.array(Field).min(3),
  version: z.strictObject({ mask: z.number().int(), value: z.number().int() }),
  flags: z.array(
    z.strictObject({
      name: ConstantName,
      mask: z.number().int().min(1),
      doc: z.string(),
    }),
  ),
  reservedMask: z.number().int(),
  doc: z.string(),
  divergences: z.array(Divergence).optional(),
});
export type HeaderFile = z.infer<typeof HeaderFile>;

// ---------------------------------------------------------------------------------------------
// Features

export const ProtocolFeature = z.strictObject({
  name: ConstantName,
  bit: z.number().int().min(0).max(63),
  aliases: z.array(ConstantName).optional(),
  summary: z.string(),
  /** Other protocol features that must be negotiated together with this one. */
  requires: z.array(ConstantName).optional(),
  since: Version,
  status: Status,
  divergences: z.array(Divergence).optional(),
});
export type ProtocolFeature = z.infer<typeof ProtocolFeature>;

export const VirtioFeature = z.strictObject({
  name: ConstantName,
  bit: z.number().int().min(0).max(63),
  aliases: z.array(ConstantName).optional(),
  /** `transport`: generic virtio bits; `vhost`: bits vhost-user reuses; or a device type. */
  scope: z.enum(['transport', 'vhost', 'net', 'blk']),
  summary: z.string(),
  source: z.string(),
  since: Version,
  status: Status,
});
export type VirtioFeature = z.infer<typeof VirtioFeature>;

export const ProtocolFeatureFile = z.strictObject({ protocolFeatures: z.array(ProtocolFeature).min(1) });
export const VirtioFeatureFile = z.strictObject({ virtioFeatures: z.array(VirtioFeature).min(1) });

// ---------------------------------------------------------------------------------------------
// Messages

export const Channel = z.enum(['frontend', 'backend']);
export type Channel = z.infer<typeof Channel>;

/** How a refusal of the request reads in an always-answered reply: the body's `field` (a u64)
 *  is non-zero (only the bits of `mask`, when given). Unstated: an empty body is the refusal. */
export const Refusal = z.strictObject({
  nonzero: z.string(),
  mask: z.number().int().positive().optional(),
});
export const ReplyRule = z.discriminatedUnion('kind', [
  /** The receiver always answers, with this payload. */
  z.strictObject({
    kind: z.literal('always'),
    payload: TypeName.nullable(),
    refusal: Refusal.optional(),
    doc: z.string().optional(),
  }),
  /** No reply body; a u64 ack only when REPLY_ACK is negotiated and need_reply is set. */
  z.strictObject({ kind: z.literal('ack'), doc: z.string().optional() }),
  /** A reply body only when a protocol feature is negotiated (or another stated condition). */
  z.strictObject({
    kind: z.literal('conditional'),
    payload: TypeName.nullable(),
    protocolFeature: ConstantName.optional(),
    condition: z.string(),
    doc: z.string().optional(),
  }),
  /** Never answered, not even with REPLY_ACK. */
  z.strictObject({
    kind: z.literal('none'),
    doc: z.string(),
    /** Where the rule comes from, when it is not plainly the upstream text (see Provenance). */
    provenance: z.lazy(() => Provenance).optional(),
  }),
]);
export type ReplyRule = z.infer<typeof ReplyRule>;

export const FdRule = z.enum([
  'none',
  'one',
  'one-per-region',
  /** One fd, unless the payload's invalid-fd bit is set; then none. */
  'one-unless-invalid-fd',
  /** One fd when the stated protocol feature is negotiated, else none. */
  'one-if-feature',
  /** One fd on success, none on failure. */
  'one-on-success',
  /** None expected; one is tolerated and must be closed unused. */
  'none-tolerate-one',
  /** Zero or more (the back-end channel with BACKEND_SEND_FD, at most 8). */
  'up-to-eight',
]);
export type FdRule = z.infer<typeof FdRule>;

export const FdSpec = z.strictObject({
  rule: FdRule,
  protocolFeature: ConstantName.optional(),
  doc: z.string().optional(),
});
export type FdSpec = z.infer<typeof FdSpec>;

export const Message = z.strictObject({
  name: ConstantName,
  id: z.number().int().min(1).max(0xffffffff),
  aliases: z.array(ConstantName).optional(),
  summary: z.string(),
  ioctl: z.string().nullable(),
  request: TypeName.nullable(),
  reply: ReplyRule,
  fds: z.strictObject({ request: FdSpec, reply: FdSpec }),
  gate: z.strictObject({
    protocolFeatures: z.array(ConstantName).optional(),
    virtioFeatures: z.array(ConstantName).optional(),
  }),
  since: Version,
  status: Status,
  divergences: z.array(Divergence).optional(),
});
export type Message = z.infer<typeof Message>;

export const MessageFile = z.strictObject({
  channel: Channel,
  messages: z.array(Message).min(1),
});

// ---------------------------------------------------------------------------------------------
// Named constants

export const NamedConstant = z.strictObject({
  name: ConstantName,
  value: z.number().int().min(0),
  since: Version,
  doc: z.string(),
});
export type NamedConstant = z.infer<typeof NamedConstant>;
export const ConstantsFile = z.strictObject({ constants: z.array(NamedConstant) });

// ---------------------------------------------------------------------------------------------
// Number registry

export const RegistryEntry = z.strictObject({
  space: z.enum(['frontend', 'backend', 'protocol-feature']),
  number: z.number().int().min(0),
  name: ConstantName,
  status: z.enum(['reserved', 'retired', 'proposed']),
  note: z.string(),
  links: z.array(z.url()).optional(),
  since: Version,
});
export type RegistryEntry = z.infer<typeof RegistryEntry>;
export const RegistryFile = z.strictObject({ registry: z.array(RegistryEntry) });

// ---------------------------------------------------------------------------------------------
// Virtqueue layouts

export const RingConstant = z.strictObject({
  name: ConstantName,
  value: z.number().int().min(0),
  doc: z.string(),
});
export const RingArea = z.strictObject({
  name: FieldName,
  struct: TypeName,
  align: z.number().int().min(1),
  /** Size as a formula of the queue size `Q` (e.g. `16*Q`, `6+2*Q`, `4`). */
  sizeFormula: z.string().regex(/^[0-9Q+*() ]+$/),
  doc: z.string(),
});
export const RingLayoutFile = z.strictObject({
  ring: z.enum(['split', 'packed']),
  source: z.string(),
  maxQueueSize: z.number().int(),
  areas: z.array(RingArea).min(1),
  structs: z.array(Payload).min(1),
  constants: z.array(RingConstant),
  doc: z.string(),
});
export type RingLayoutFile = z.infer<typeof RingLayoutFile>;

// ---------------------------------------------------------------------------------------------
// Session rules

export const Level = z.enum(['MUST', 'MUST NOT', 'SHOULD', 'SHOULD NOT', 'MAY']);
export type Level = z.infer<typeof Level>;

/**
 * Where a normative rule comes from: the upstream text (QEMU's docs/interop/vhost-user.rst, at
 * a named QEMU version or commit), or a clarification this repository added, with its reason
 * and the implementations that already behave that way. A check derived from a clarification
 * never fails an implementation at a level above `upstreamLevel` (none: upstream is silent).
 */
export const Provenance = z.union([
  z.strictObject({
    source: z.literal('upstream'),
    /** The QEMU release (`v9.2.0`) or commit whose vhost-user.rst states the rule. */
    qemu: z.string().min(1),
  }),
  z.strictObject({
    source: z.literal('clarification'),
    reason: z.string().min(20, 'say why the rule is stated more strictly than upstream, in a sentence or more'),
    /** Implementations that already behave as the clarification says. */
    agree: z.array(Implementation),
    /** What the upstream text says about it: its level, or `none` when it is silent. */
    upstreamLevel: z.union([Level, z.literal('none')]),
  }),
]);
export type Provenance = z.infer<typeof Provenance>;

/** A small condition language over the session state. */
export type Condition =
  | { protocolFeature: string }
  | { virtioFeature: string }
  | { virtioFeatureOffered: string }
  | { receivedBefore: string }
  | { all: Condition[] }
  | { any: Condition[] }
  | { not: Condition };
export const Condition: z.ZodType<Condition> = z.lazy(() =>
  z.union([
    z.strictObject({ protocolFeature: ConstantName }),
    z.strictObject({ virtioFeature: ConstantName }),
    z.strictObject({ virtioFeatureOffered: ConstantName }),
    z.strictObject({ receivedBefore: ConstantName }),
    z.strictObject({ all: z.array(Condition).min(1) }),
    z.strictObject({ any: z.array(Condition).min(1) }),
    z.strictObject({ not: Condition }),
  ]),
);

export const Precondition = z.strictObject({
  id: z.string().regex(/^[a-z0-9-]+$/),
  level: Level,
  /** Who the rule binds. */
  actor: z.enum(['frontend', 'backend']),
  messages: z.array(ConstantName).min(1),
  /** `send-only-when`: the messages may be sent only when `condition` holds.
   *  `never-when`: the messages must not be sent when `condition` holds.
   *  `allowed-before`: the messages are valid even before `before` was sent. */
  kind: z.enum(['send-only-when', 'never-when', 'allowed-before']),
  condition: Condition.optional(),
  before: ConstantName.optional(),
  summary: z.string(),
  since: Version,
  /** Marks a rule that means "every message of this channel": lint checks `messages` lists them all. */
  covers: z
    .strictObject({
      channel: z.enum(['frontend', 'backend']),
      /** Messages of the channel the rule deliberately leaves out. */
      except: z.array(ConstantName).optional(),
    })
    .optional(),
  provenance: Provenance.optional(),
});
export type Precondition = z.infer<typeof Precondition>;

export const RingStateName = z.enum(['stopped', 'started', 'disabled', 'enabled']);
export const RingTransition = z.strictObject({
  message: ConstantName,
  /** Extra condition under which the message has this effect. */
  condition: Condition.optional(),
  /** A payload-dependent effect: the `num` value that selects it. */
  num: z.number().int().optional(),
  scope: z.enum(['ring', 'all-rings']),
  /** `immediate`: the message itself has the effect; `first-kick`: the effect waits for the
   *  first kick on the fd the message installed (the 1.0 wording for starting rings). */
  timing: z.enum(['immediate', 'first-kick']).optional(),
  to: z.array(RingStateName).min(1),
  level: Level,
  summary: z.string(),
  since: Version,
  provenance: Provenance.optional(),
});
export type RingTransition = z.infer<typeof RingTransition>;

export const RulesFile = z.strictObject({
  preconditions: z.array(Precondition),
  ringStates: z.strictObject({
    initial: z.array(RingStateName).length(2),
    behaviour: z.array(
      z.strictObject({
        state: z.array(RingStateName).min(1),
        level: Level,
        summary: z.string(),
        provenance: Provenance.optional(),
      }),
    ),
    transitions: z.array(RingTransition).min(1),
  }),
});
export type RulesFile = z.infer<typeof RulesFile>;
